using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Annex.Formats;

/// <summary>A reusable, growing UTF-8 buffer that writers format text and numbers straight into, so writing an
/// annotation allocates nothing (no strings per number or row).</summary>
public sealed class Utf8Buffer(int capacity = 4096)
{
    private byte[] _bytes = new byte[capacity];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Memory => _bytes.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Drops everything after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => Length = Math.Clamp(length, 0, Length);

    public Utf8Buffer Append(ReadOnlySpan<byte> utf8)
    {
        utf8.CopyTo(Reserve(utf8.Length));
        Length += utf8.Length;
        return this;
    }

    public Utf8Buffer Append(ReadOnlySpan<char> text)
    {
        var written = Encoding.UTF8.GetBytes(text, Reserve(Encoding.UTF8.GetMaxByteCount(text.Length)));
        Length += written;
        return this;
    }

    public Utf8Buffer Append(string? text) => Append(text.AsSpan());

    public Utf8Buffer Append(byte ascii)
    {
        Reserve(1)[0] = ascii;
        Length++;
        return this;
    }

    public Utf8Buffer Append(int value)
    {
        if (!Utf8Formatter.TryFormat(value, Reserve(11), out var written))
        {
            throw new InvalidOperationException("An integer did not fit.");
        }

        Length += written;
        return this;
    }

    /// <summary>The same text as <c>value.ToString(format, CultureInfo.InvariantCulture)</c>.</summary>
    public Utf8Buffer Append(double value, string format)
    {
        var destination = Reserve(64);
        if (!value.TryFormat(destination, out var written, format, CultureInfo.InvariantCulture))
        {
            destination = Reserve(400);
            if (!value.TryFormat(destination, out written, format, CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("A number did not fit.");
            }
        }

        Length += written;
        return this;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (Length + bytes > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(Length + bytes, _bytes.Length * 2));
        }

        return _bytes.AsSpan(Length);
    }
}
