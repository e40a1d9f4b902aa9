using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>
/// Walks a JSON file whose top level is an object, one array element at a time, with <see cref="Utf8JsonReader"/>
/// over a buffer that only has to hold the largest single element: the file is never in memory whole. Each element
/// of a top-level array is handed to the visitor with a reader positioned on its first token; the visitor may read
/// it (e.g. <see cref="JsonDocument.ParseValue"/>) or leave it, and the walker moves past it either way.
/// </summary>
internal static class JsonArrayWalker
{
    /// <summary>Receives the top level's property names and, for arrays, their elements.</summary>
    public interface IVisitor
    {
        /// <summary>One element of the top-level array <paramref name="property"/>; the reader is on its first token.</summary>
        void Element(string property, int index, ref Utf8JsonReader element);

        /// <summary>A top-level property's value, the reader on its first token: an array as it starts (its elements
        /// follow), else the whole value.</summary>
        void Other(string property, ref Utf8JsonReader value);
    }

    public static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };

    /// <summary>Reads <paramref name="stream"/> to its end. Throws <see cref="JsonException"/> for malformed JSON
    /// and <see cref="InvalidDataException"/> when the top level is not an object.</summary>
    public static void Walk(Stream stream, IVisitor visitor)
    {
        var walk = new Walker(stream, visitor);
        while (walk.Step())
        {
        }
    }

    /// <summary>A walk done one buffer at a time, so a caller can hand out what the visitor found in between.</summary>
    public sealed class Walker(Stream stream, IVisitor visitor)
    {
        private byte[] _buffer = new byte[256 * 1024];
        private int _filled;
        private bool _final;
        private bool _done;
        private JsonReaderState _state = new(Options);
        private string? _property;
        private bool _inArray;
        private int _index;
        private bool _started;

        /// <summary>Reads the next part of the file; false once the whole file has been read.</summary>
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

            var reader = new Utf8JsonReader(_buffer.AsSpan(0, _filled), _final, _state);
            Tokens(ref reader);
            var consumed = (int)reader.BytesConsumed;
            _state = reader.CurrentState;
            if (_final)
            {
                // With the final block the reader itself throws on a truncated file, so ending here means it was whole.
                if (!_started)
                {
                    throw new InvalidDataException("the file is empty");
                }

                _done = true;
                return false;
            }

            _filled -= consumed;
            Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _filled);
            if (_filled == _buffer.Length)
            {
                // One element is larger than the buffer.
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

                if (!_started)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new InvalidDataException("the top level is not an object");
                    }

                    _started = true;
                    continue;
                }

                if (_inArray)
                {
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        _inArray = false;
                        continue;
                    }

                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        // Only a whole element is handed out; otherwise read more of the file first.
                        var probe = reader;
                        if (!probe.TrySkip())
                        {
                            reader = before;
                            return;
                        }

                        var element = reader;
                        visitor.Element(_property!, _index++, ref element);
                        reader = probe;
                    }
                    else
                    {
                        var element = reader;
                        visitor.Element(_property!, _index++, ref element);
                    }

                    continue;
                }

                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
                {
                    continue;
                }

                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    _property = reader.GetString();
                    continue;
                }

                // A top-level value.
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    _inArray = true;
                    _index = 0;
                    var start = reader;
                    visitor.Other(_property!, ref start);
                    continue;
                }

                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var probe = reader;
                    if (!probe.TrySkip())
                    {
                        reader = before;
                        return;
                    }

                    var value = reader;
                    visitor.Other(_property!, ref value);
                    reader = probe;
                    continue;
                }

                var primitive = reader;
                visitor.Other(_property!, ref primitive);
            }
        }
    }
}
