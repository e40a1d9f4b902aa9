namespace Annex.Server.Features.Exports.Filtering;

/// <summary>The fields a filter can test. Label, Type and Attribute hold when at least one annotation
/// of the task matches; the others are properties of the task, its item or its project.</summary>
public enum FilterField
{
    Label,
    Type,
    Attribute,
    RefId,
    Metadata,
    Dataset,
    Project,
    Slice,
    CreatedAt,
    UpdatedAt,
    AnnotationCount,
}

public enum ComparisonOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>A field as written: <see cref="Path"/> holds the keys after <c>metadata.</c> or
/// <c>attributes.</c> (e.g. <c>metadata.camera.model</c> gives ["camera", "model"]), empty otherwise.</summary>
public sealed record FieldReference(FilterField Field, IReadOnlyList<string> Path, string Text);

/// <summary>A literal, already checked against the field it is compared with.</summary>
public abstract record FilterValue
{
    public sealed record Text(string Value) : FilterValue;

    public sealed record Number(double Value) : FilterValue;

    public sealed record Boolean(bool Value) : FilterValue;

    public sealed record Null : FilterValue;

    /// <summary>A UTC instant (for created_at and updated_at).</summary>
    public sealed record Timestamp(DateTime Value) : FilterValue;

    /// <summary>A dataset, project or slice uid.</summary>
    public sealed record Uid(Guid Value) : FilterValue;
}

/// <summary>The parsed filter. <c>Position</c> is the 1-based character position where the node starts.</summary>
public abstract record FilterNode(int Position)
{
    public sealed record And(FilterNode Left, FilterNode Right, int Position) : FilterNode(Position);

    public sealed record Or(FilterNode Left, FilterNode Right, int Position) : FilterNode(Position);

    public sealed record Not(FilterNode Operand, int Position) : FilterNode(Position);

    public sealed record Compare(FieldReference Field, ComparisonOperator Operator, FilterValue Value, int Position) : FilterNode(Position);

    /// <summary><c>field IN (v1, v2, ...)</c>: equal to any of the values.</summary>
    public sealed record In(FieldReference Field, IReadOnlyList<FilterValue> Values, int Position) : FilterNode(Position);

    /// <summary><c>field ~ "pattern"</c>: <c>*</c> matches any run of characters, <c>?</c> one character; case-sensitive.</summary>
    public sealed record Glob(FieldReference Field, string Pattern, int Position) : FilterNode(Position);

    /// <summary><c>field EXISTS</c>: the key is present (its value may be null).</summary>
    public sealed record Exists(FieldReference Field, int Position) : FilterNode(Position);
}
