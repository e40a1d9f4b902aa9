using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>
/// Walks a JSON stream of any shape with <see cref="Utf8JsonReader"/> over a buffer that only has to hold the
/// largest value taken whole: for each value the visitor says whether to take it whole (handed over complete, e.g.
/// for <see cref="JsonDocument.ParseValue"/>), to enter it (an object or array whose members are walked one by one)
/// or to skip it (read past token by token, never held). So a document with large nested arrays, such as
/// <c>datasets[*].items[*]</c>, is read element by element.
/// </summary>
internal sealed class JsonTreeWalker(Stream stream, JsonTreeWalker.IVisitor visitor)
{
    public enum Take
    {
        Skip,
        Whole,
        Enter,
    }

    /// <summary>Where a value is: the property name (in an object) or the index (in an array) at each level.</summary>
    public sealed class Level(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public string? Name { get; internal set; }

        public int Index { get; internal set; } = -1;
    }

    public interface IVisitor
    {
        /// <summary>How to read the value that starts at <paramref name="path"/> (its last level says where in its
        /// parent; empty for the top value). Called again for the same value when it had to wait for more of the
        /// stream, so it must not change anything.</summary>
        Take Decide(IReadOnlyList<Level> path, JsonTokenType token);

        /// <summary>A value taken whole; the reader is on its first token.</summary>
        void Whole(IReadOnlyList<Level> path, ref Utf8JsonReader value);

        /// <summary>An entered object or array starts (<paramref name="path"/> is where it is, as for
        /// <see cref="Decide"/>).</summary>
        void Entered(IReadOnlyList<Level> path, JsonTokenType token);

        /// <summary>An entered object or array ended.</summary>
        void Left(IReadOnlyList<Level> path);
    }

    private readonly List<Level> _path = [];
    private byte[] _buffer = new byte[256 * 1024];
    private int _filled;
    private bool _final;
    private bool _done;
    private JsonReaderState _state = new(new JsonReaderOptions());
    private int _skipDepth = -1;
    private bool _started;

    /// <summary>Reads the next part of the stream; false once all of it has been read. Throws
    /// <see cref="JsonException"/> for malformed JSON.</summary>
    public bool Step()
    {
        if (_done)
        {
            return false;
        }

        if (!_final)
        {
            var read = stream.Read(_buffer, _filled, _buffer.Length - _filled);
            _final = read == 0;
            _filled += read;
        }

        if (!_started)
        {
            if (_filled < 3 && !_final)
            {
                // Not yet enough to tell whether the stream starts with a byte order mark.
                return true;
            }

            // A UTF-8 byte order mark is not JSON; JsonDocument.Parse skips it too.
            _started = true;
            if (_buffer.AsSpan(0, _filled).StartsWith("\uFEFF"u8))
            {
                _filled -= 3;
                Buffer.BlockCopy(_buffer, 3, _buffer, 0, _filled);
            }
        }

        var reader = new Utf8JsonReader(_buffer.AsSpan(0, _filled), _final, _state);
        Tokens(ref reader);
        var consumed = (int)reader.BytesConsumed;
        _state = reader.CurrentState;
        if (_final)
        {
            // With the final block the reader itself throws on a truncated stream, so ending here means it was whole.
            _done = true;
            return false;
        }

        _filled -= consumed;
        Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _filled);
        if (_filled == _buffer.Length)
        {
            // One value taken whole is larger than the buffer.
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        return true;
    }

    private void Tokens(ref Utf8JsonReader reader)
    {
        while (true)
        {
            var before = reader;
            if (!reader.Read())
            {
                reader = before;
                return;
            }

            var token = reader.TokenType;
            if (_skipDepth >= 0)
            {
                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == _skipDepth)
                {
                    _skipDepth = -1;
                }

                continue;
            }

            if (token == JsonTokenType.PropertyName)
            {
                _path[^1].Name = reader.GetString();
                continue;
            }

            if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                _path.RemoveAt(_path.Count - 1);
                visitor.Left(_path);
                continue;
            }

            // A value starts.
            var parent = _path.Count > 0 ? _path[^1] : null;
            if (parent is { IsArray: true })
            {
                parent.Index++;
            }

            var take = visitor.Decide(_path, token);
            var container = token is JsonTokenType.StartObject or JsonTokenType.StartArray;
            if (take == Take.Whole)
            {
                if (container)
                {
                    var probe = reader;
                    if (!probe.TrySkip())
                    {
                        // Only a whole value is handed over; read more of the stream first.
                        if (parent is { IsArray: true })
                        {
                            parent.Index--;
                        }

                        reader = before;
                        return;
                    }

                    var value = reader;
                    visitor.Whole(_path, ref value);
                    reader = probe;
                }
                else
                {
                    var value = reader;
                    visitor.Whole(_path, ref value);
                }
            }
            else if (container && take == Take.Enter)
            {
                visitor.Entered(_path, token);
                _path.Add(new Level(token == JsonTokenType.StartArray));
            }
            else if (container)
            {
                _skipDepth = reader.CurrentDepth;
            }
        }
    }
}
