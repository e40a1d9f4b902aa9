namespace Annex.Server.Infrastructure.Http;

/// <summary>Field errors in the shape Django REST Framework clients parse: a message list per field,
/// nested objects for list indexes and sub-fields, e.g. <c>{"datasets": {"0": ["Must be a valid UUID."]}}</c>.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, object> _root = new(StringComparer.Ordinal);

    public bool Any => _root.Count > 0;

    /// <summary>How many messages were recorded so far (it only grows); lets a reader tell whether one
    /// part of a body failed.</summary>
    public int Count { get; private set; }

    public void Add(string field, string message) => Add([field], message);

    /// <summary>Adds a message under a path of keys; a path of ["results", "2", "annotations", "0", "label"]
    /// becomes nested objects ending in a message list.</summary>
    public void Add(IReadOnlyList<string> path, string message)
    {
        if (path.Count == 0)
        {
            path = ["non_field_errors"];
        }

        var node = _root;
        for (var i = 0; i < path.Count - 1; i++)
        {
            if (!node.TryGetValue(path[i], out var child) || child is not Dictionary<string, object> childNode)
            {
                // A message about the whole list gives way to its elements' errors (see below).
                childNode = new Dictionary<string, object>(StringComparer.Ordinal);
                node[path[i]] = childNode;
            }

            node = childNode;
        }

        var leaf = path[^1];
        if (node.TryGetValue(leaf, out var existing) && existing is Dictionary<string, object>)
        {
            // Errors of a list's elements already stand under this key; like DRF, they win over a
            // message about the list as a whole (which would need the same key).
            return;
        }

        if (existing is not List<string> messages)
        {
            messages = [];
            node[leaf] = messages;
        }

        messages.Add(message);
        Count++;
    }

    /// <summary>The same answer as <see cref="ToResult"/>, typed for handlers that return <c>Results&lt;...&gt;</c>.</summary>
    public BadRequestError ToBadRequest() => BadRequestError.Fields(this);

    internal Dictionary<string, object> Body => _root;

    public IResult ToResult() => Results.Json(_root, ApiJson.Options, statusCode: StatusCodes.Status400BadRequest);
}
