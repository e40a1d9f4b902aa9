using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Annex.Formats;

/// <summary>
/// Writes a zip archive front to back onto any stream (no seeking), holding nothing per entry in memory: each
/// entry's central-directory record is spooled to a temporary file and copied to the end of the archive on
/// <see cref="CompleteAsync"/>. Archives with a million label files (YOLO, VOC) therefore cost the same memory
/// as archives with one. Entries use data descriptors with ZIP64 sizes, so entries and archives may exceed
/// 4 GiB and the entry count 65,535. Names are UTF-8 (flag bit 11); timestamps are fixed by the caller, so
/// the same input gives the same bytes.
/// </summary>
public sealed class StreamingZipWriter : IAsyncDisposable
{
    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint DataDescriptorSignature = 0x08074b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint EndSignature = 0x06054b50;
    private const ushort Zip64Version = 45;
    private const ushort Flags = 0x0008 | 0x0800; // sizes in a data descriptor; UTF-8 names

    private readonly Stream _output;
    private readonly FileStream _centralSpool;
    private readonly BufferedStream _central;
    private readonly ushort _dosTime;
    private readonly ushort _dosDate;
    private long _position;
    private long _entries;
    private bool _entryOpen;
    private bool _completed;

    /// <param name="output">Where the archive goes.</param>
    /// <param name="timestampUtc">Every entry's time.</param>
    /// <param name="tempFolder">Where the central directory is spooled; the system's temporary folder when null.</param>
    public StreamingZipWriter(Stream output, DateTime timestampUtc, string? tempFolder = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        (_dosDate, _dosTime) = DosDateTime(timestampUtc);
        _centralSpool = SpillFiles.Create(tempFolder, "annex-zip", ".cd", 4096);
        _central = new BufferedStream(_centralSpool, 64 * 1024);
    }

    public long EntryCount => _entries;

    /// <summary>Opens the next entry; write its bytes and dispose the stream before opening another.</summary>
    public async Task<Stream> OpenEntryAsync(string name, CompressionLevel level, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_entryOpen)
        {
            throw new InvalidOperationException("Close the previous entry before opening the next.");
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException("An entry name is at most 65,535 bytes.", nameof(name));
        }

        var method = level == CompressionLevel.NoCompression ? (ushort)0 : (ushort)8;
        var offset = _position;
        // The ZIP64 extra field announces 8-byte sizes in the data descriptor; its values are unknown yet (0).
        var header = new byte[30 + nameBytes.Length + 20];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, LocalHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], method);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], _dosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], _dosDate);
        // crc and 32-bit sizes stay 0 (bit 3: they follow the data); 0xFFFFFFFF sizes point at the ZIP64 field.
        BinaryPrimitives.WriteUInt32LittleEndian(span[18..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(span[22..], uint.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], 20);
        nameBytes.CopyTo(span[30..]);
        var extra = span[(30 + nameBytes.Length)..];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
        await WriteAsync(header, cancellationToken);
        _entryOpen = true;
        return new EntryStream(this, nameBytes, method, offset, level);
    }

    private async Task CloseEntryAsync(byte[] nameBytes, ushort method, long offset, uint crc, long compressed, long uncompressed, CancellationToken cancellationToken)
    {
        var descriptor = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, DataDescriptorSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(4), crc);
        BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(8), compressed);
        BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(16), uncompressed);
        await WriteAsync(descriptor, cancellationToken);

        // Central record: 32-bit fields where the values fit, a ZIP64 extra field with the ones that do not.
        var zip64 = new List<long>(3);
        if (uncompressed >= uint.MaxValue)
        {
            zip64.Add(uncompressed);
        }

        if (compressed >= uint.MaxValue)
        {
            zip64.Add(compressed);
        }

        if (offset >= uint.MaxValue)
        {
            zip64.Add(offset);
        }

        var extraLength = zip64.Count == 0 ? 0 : 4 + 8 * zip64.Count;
        var record = new byte[46 + nameBytes.Length + extraLength];
        var span = record.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, CentralHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)(3 << 8 | Zip64Version)); // made by: Unix
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], method);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], _dosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(span[14..], _dosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)Math.Min(compressed, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)Math.Min(uncompressed, uint.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[30..], (ushort)extraLength);
        // comment length, disk number, internal attributes: 0
        BinaryPrimitives.WriteUInt32LittleEndian(span[38..], 0x81A4u << 16); // -rw-r--r--
        BinaryPrimitives.WriteUInt32LittleEndian(span[42..], (uint)Math.Min(offset, uint.MaxValue));
        nameBytes.CopyTo(span[46..]);
        if (extraLength > 0)
        {
            var extra = span[(46 + nameBytes.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)(8 * zip64.Count));
            for (var i = 0; i < zip64.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(extra[(4 + 8 * i)..], zip64[i]);
            }
        }

        await _central.WriteAsync(record, cancellationToken);
        _entries++;
        _entryOpen = false;
    }

    /// <summary>Writes the central directory and the end records. The output stays open.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_entryOpen)
        {
            throw new InvalidOperationException("An entry is still open.");
        }

        await _central.FlushAsync(cancellationToken);
        var centralOffset = _position;
        var centralSize = _centralSpool.Length;
        _centralSpool.Position = 0;
        await _centralSpool.CopyToAsync(_output, cancellationToken);
        _position += centralSize;

        var needsZip64 = _entries >= ushort.MaxValue || centralOffset >= uint.MaxValue || centralSize >= uint.MaxValue;
        if (needsZip64)
        {
            var zip64EndOffset = _position;
            var end64 = new byte[56 + 20];
            var span = end64.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(span, Zip64EndSignature);
            BinaryPrimitives.WriteInt64LittleEndian(span[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(span[12..], (ushort)(3 << 8 | Zip64Version));
            BinaryPrimitives.WriteUInt16LittleEndian(span[14..], Zip64Version);
            BinaryPrimitives.WriteInt64LittleEndian(span[24..], _entries);
            BinaryPrimitives.WriteInt64LittleEndian(span[32..], _entries);
            BinaryPrimitives.WriteInt64LittleEndian(span[40..], centralSize);
            BinaryPrimitives.WriteInt64LittleEndian(span[48..], centralOffset);
            var locator = span[56..];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, Zip64LocatorSignature);
            BinaryPrimitives.WriteInt64LittleEndian(locator[8..], zip64EndOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
            await WriteAsync(end64, cancellationToken);
        }

        var end = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(8), (ushort)Math.Min(_entries, ushort.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(10), (ushort)Math.Min(_entries, ushort.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(12), (uint)Math.Min(centralSize, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(16), (uint)Math.Min(centralOffset, uint.MaxValue));
        await WriteAsync(end, cancellationToken);
        await _output.FlushAsync(cancellationToken);
        _completed = true;
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _output.WriteAsync(bytes, cancellationToken);
        _position += bytes.Length;
    }

    private static (ushort Date, ushort Time) DosDateTime(DateTime utc)
    {
        if (utc.Kind != DateTimeKind.Utc)
        {
            throw new ArgumentException($"Expected a UTC timestamp but got DateTimeKind.{utc.Kind}.", nameof(utc));
        }

        var clamped = utc.Year < 1980 ? new DateTime(1980, 1, 1, 0, 0, 0, DateTimeKind.Utc) : utc.Year > 2107 ? new DateTime(2107, 12, 31, 23, 59, 58, DateTimeKind.Utc) : utc;
        var date = (ushort)(((clamped.Year - 1980) << 9) | (clamped.Month << 5) | clamped.Day);
        var time = (ushort)((clamped.Hour << 11) | (clamped.Minute << 5) | (clamped.Second / 2));
        return (date, time);
    }

    public async ValueTask DisposeAsync()
    {
        await _central.DisposeAsync();
        await _centralSpool.DisposeAsync();
    }

    /// <summary>Counts and checksums what the caller writes, compresses it, and counts what reaches the archive.</summary>
    private sealed class EntryStream : Stream
    {
        private readonly StreamingZipWriter _zip;
        private readonly byte[] _nameBytes;
        private readonly ushort _method;
        private readonly long _offset;
        private readonly Crc32 _crc = new();
        private readonly CountingStream _counter;
        private readonly Stream _sink;
        private long _uncompressed;
        private bool _closed;

        public EntryStream(StreamingZipWriter zip, byte[] nameBytes, ushort method, long offset, CompressionLevel level)
        {
            _zip = zip;
            _nameBytes = nameBytes;
            _method = method;
            _offset = offset;
            _counter = new CountingStream(zip._output);
            _sink = method == 0 ? _counter : new DeflateStream(_counter, level, leaveOpen: true);
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => !_closed;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _uncompressed; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _crc.Append(buffer);
            _uncompressed += buffer.Length;
            _sink.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _crc.Append(buffer.Span);
            _uncompressed += buffer.Length;
            await _sink.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                _closed = true;
                if (_sink != _counter)
                {
                    await _sink.DisposeAsync();
                }

                _zip._position += _counter.Count;
                await _zip.CloseEntryAsync(_nameBytes, _method, _offset, _crc.GetCurrentHashAsUInt32(), _counter.Count, _uncompressed, CancellationToken.None);
            }

            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_closed)
            {
                DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Passes bytes through to the archive and counts them.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Count += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
