using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Annex.Server.Infrastructure.Http;

/// <summary>Called with each element of a bulk body's list, in order, with its index; the element is only valid during the call.</summary>
public delegate void BulkElementReader(JsonElement element, int index);

/// <summary>How a bulk body was read: how many elements its list has, or the answer that refuses the body as a whole.</summary>
public sealed record BulkBodyRead(int Count, BadRequestError? Error);

/// <summary>
/// Reads the body of a bulk write endpoint, <c>{"&lt;name&gt;": [...]}</c> or a bare <c>[...]</c>, as it arrives:
/// each element of the list is parsed alone and handed to the caller, so neither the whole body nor a document of
/// it is ever held in memory. The answers are those of a body parsed whole (<see cref="JsonBody.ReadObjectAsync"/>):
/// a parse error (anywhere in the body) or invalid text wins over everything, then an error about the list as a
/// whole (missing, not a list, empty, too long), then the field errors the caller recorded for its elements.
/// </summary>
public static class BulkBody
{
    private const int MaxDepth = 64;

    public static async Task<BulkBodyRead> ReadAsync(HttpRequest request, string name, int maxCount, BulkElementReader read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(read);
        var pipe = PipeReader.Create(request.Body, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        var walker = new Walker(name, maxCount, read);
        try
        {
            while (true)
            {
                var result = await pipe.ReadAsync(cancellationToken);
                var consumed = walker.Feed(result.Buffer, result.IsCompleted);
                pipe.AdvanceTo(consumed, result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (JsonException ex)
        {
            return new BulkBodyRead(0, BadRequestError.Detail($"JSON parse error - {JsonBody.ParseMessage(ex)}"));
        }
        finally
        {
            await pipe.CompleteAsync();
        }

        return walker.Finish();
    }

    /// <summary>Where the walk is; the positions are those of the tokens that start each part.</summary>
    private enum Place
    {
        /// <summary>Before the first token.</summary>
        Start,

        /// <summary>At the top level of an object body, between properties.</summary>
        Object,

        /// <summary>Inside the list of elements.</summary>
        List,

        /// <summary>After the value of the body (a primitive, the bare array or the object).</summary>
        Done,
    }

    private sealed class Walker(string name, int maxCount, BulkElementReader read)
    {
        private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = MaxDepth });
        private Place _place = Place.Start;
        private bool _empty;
        private bool _listSeen;
        private int _listDepth;
        private int _count;
        private string? _rootType;
        private string? _invalidText;
        private string? _listError;

        /// <summary>The property just read and whose value comes next: the list, another, or none.</summary>
        private PendingValue _pending;

        private enum PendingValue
        {
            None,
            List,
            Other,
        }

        /// <summary>Reads every whole token of <paramref name="buffer"/>; returns where the first token not read whole starts.</summary>
        public SequencePosition Feed(ReadOnlySequence<byte> buffer, bool final)
        {
            if (_place == Place.Start && IsWhitespace(buffer))
            {
                // Nothing but whitespace so far: an empty body counts as {}.
                _empty = final;
                return buffer.End;
            }

            var reader = new Utf8JsonReader(buffer, final, _state);
            while (true)
            {
                var before = reader;
                if (!reader.Read())
                {
                    reader = before;
                    break;
                }

                if (!Step(ref reader))
                {
                    // The value that starts here is not all in the buffer yet: read it again with more.
                    reader = before;
                    break;
                }
            }

            _state = reader.CurrentState;
            return reader.Position;
        }

        /// <summary>Handles the token the reader is on; false when a value starting there is not whole in the buffer.</summary>
        private bool Step(ref Utf8JsonReader reader)
        {
            switch (_place)
            {
                case Place.Start:
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.StartObject:
                            _place = Place.Object;
                            return true;
                        case JsonTokenType.StartArray:
                            _listSeen = true;
                            _listDepth = reader.CurrentDepth + 1;
                            _place = Place.List;
                            return true;
                        default:
                            _rootType = PythonType(ref reader);
                            CheckText(ref reader);
                            _place = Place.Done;
                            return true;
                    }

                case Place.Object when _pending == PendingValue.None:
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        _place = Place.Done;
                        return true;
                    }

                    // A property name at the top level.
                    CheckText(ref reader);
                    if (!reader.ValueTextEquals(name))
                    {
                        _pending = PendingValue.Other;
                    }
                    else if (_listSeen)
                    {
                        _listError ??= $"The key \"{name}\" appears twice in one object; send each key once.";
                        _pending = PendingValue.Other;
                    }
                    else
                    {
                        _pending = PendingValue.List;
                    }

                    return true;

                case Place.Object when _pending == PendingValue.List:
                    _listSeen = true;
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        _pending = PendingValue.None;
                        _listDepth = reader.CurrentDepth + 1;
                        _place = Place.List;
                        return true;
                    }

                    _listError ??= reader.TokenType == JsonTokenType.Null
                        ? Fields.NotNull
                        : $"Expected a list of items but got type \"{PythonType(ref reader)}\".";
                    if (!SkipValue(ref reader, check: true))
                    {
                        return false;
                    }

                    _pending = PendingValue.None;
                    return true;

                case Place.Object:
                    // The value of a property other than the list: only checked for text no database can hold.
                    if (!SkipValue(ref reader, check: true))
                    {
                        return false;
                    }

                    _pending = PendingValue.None;
                    return true;

                case Place.List:
                    if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == _listDepth - 1)
                    {
                        _place = _listDepth == 1 ? Place.Done : Place.Object;
                        return true;
                    }

                    return Element(ref reader);

                default:
                    // After the body's value the reader allows nothing but whitespace, and says so.
                    return true;
            }
        }

        private bool Element(ref Utf8JsonReader reader)
        {
            if (_count >= maxCount || _invalidText is not null)
            {
                // Too many elements (the answer says only that) or a body refused already: read on for parse errors only.
                if (!reader.TrySkip())
                {
                    return false;
                }

                _count++;
                return true;
            }

            var start = reader;
            if (!reader.TrySkip())
            {
                return false;
            }

            using var document = JsonDocument.ParseValue(ref start);
            if (JsonBody.FindInvalidText(document.RootElement) is { } problem)
            {
                _invalidText = problem;
            }
            else
            {
                read(document.RootElement, _count);
            }

            _count++;
            return true;
        }

        /// <summary>Moves past the value the reader is on, checking its text when asked; false when it is not whole yet.</summary>
        private bool SkipValue(ref Utf8JsonReader reader, bool check)
        {
            if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                if (check)
                {
                    CheckText(ref reader);
                }

                return true;
            }

            var start = reader;
            if (!reader.TrySkip())
            {
                return false;
            }

            if (check && _invalidText is null)
            {
                using var document = JsonDocument.ParseValue(ref start);
                _invalidText = JsonBody.FindInvalidText(document.RootElement);
            }

            return true;
        }

        /// <summary>A string or property name holding a null character or an unpaired surrogate refuses the body.</summary>
        private void CheckText(ref Utf8JsonReader reader)
        {
            if (_invalidText is not null || reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
            {
                return;
            }

            try
            {
                if (reader.GetString()!.Contains('\0', StringComparison.Ordinal))
                {
                    _invalidText = JsonBody.NullCharacter;
                }
            }
            catch (InvalidOperationException)
            {
                _invalidText = JsonBody.UnpairedSurrogate;
            }
        }

        public BulkBodyRead Finish()
        {
            if (_invalidText is not null)
            {
                return new BulkBodyRead(0, BadRequestError.Detail($"JSON parse error - {_invalidText}"));
            }

            var errors = new ValidationErrors();
            if (_rootType is not null)
            {
                errors.Add("non_field_errors", $"Invalid data. Expected a dictionary, but got {_rootType}.");
            }
            else if (_listError is not null)
            {
                errors.Add(name, _listError);
            }
            else if (!_listSeen || _empty)
            {
                errors.Add(name, Fields.Required);
            }
            else if (_count == 0)
            {
                errors.Add(name, "This list may not be empty.");
            }
            else if (_count > maxCount)
            {
                errors.Add(name, $"Ensure this field has no more than {maxCount} elements.");
            }

            return new BulkBodyRead(_count, errors.Any ? errors.ToBadRequest() : null);
        }

        /// <summary>The Python type name of the value the reader is on, as <see cref="JsonBody.PythonTypeName"/> gives it.</summary>
        private static string PythonType(ref Utf8JsonReader reader) => reader.TokenType switch
        {
            JsonTokenType.StartObject => "dict",
            JsonTokenType.StartArray => "list",
            JsonTokenType.String => "str",
            JsonTokenType.Number => reader.TryGetInt64(out _) ? "int" : "float",
            JsonTokenType.True or JsonTokenType.False => "bool",
            _ => "NoneType",
        };

        private static bool IsWhitespace(ReadOnlySequence<byte> buffer)
        {
            foreach (var segment in buffer)
            {
                if (segment.Span.IndexOfAnyExcept(" \t\r\n"u8) >= 0)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
