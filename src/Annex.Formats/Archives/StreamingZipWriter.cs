using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
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

    /// <summary>Opens the next entry; write its bytes and dispose the stream before opening another. An entry that
    /// grows past <see cref="BlockBytes"/> is deflated in blocks of that size on the thread pool, so both cores
    /// compress a large file (a COCO instances file, a CSV).</summary>
    public async Task<Stream> OpenEntryAsync(string name, CompressionLevel level, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_entryOpen)
        {
            throw new InvalidOperationException("Close the previous entry before opening the next.");
        }

        // Entries handed to WriteEntryAsync go out first, in order.
        await _queued;
        var nameBytes = Encoding.UTF8.GetBytes(name);
        CheckNameLength(nameBytes.Length, name);
        var method = level == CompressionLevel.NoCompression ? (ushort)0 : (ushort)8;
        var offset = _position;
        var header = new byte[LocalHeaderLength(nameBytes.Length)];
        WriteLocalHeader(header, nameBytes, method);
        await WriteAsync(header, cancellationToken);
        _entryOpen = true;
        return new EntryStream(this, nameBytes, method, offset, level);
    }

    /// <summary>Entries deflated on the thread pool while the caller writes at most this many more whole entries
    /// (<see cref="WriteEntryAsync"/>): enough to keep one core compressing, few enough to keep memory flat.</summary>
    private const int QueuedEntries = 64;

    /// <summary>Adds an entry whose bytes the caller has in full (a label file, an XML annotation). The bytes are copied
    /// and the entry is compressed and written on the thread pool, in order, while the caller goes on producing the
    /// next ones; errors surface on a later call. Its bytes in the archive are what <see cref="OpenEntryAsync"/> gives.</summary>
    public async Task WriteEntryAsync(string name, ReadOnlyMemory<byte> content, CompressionLevel level, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_entryOpen)
        {
            throw new InvalidOperationException("Close the previous entry before adding the next.");
        }

        var nameLength = Encoding.UTF8.GetByteCount(name);
        CheckNameLength(nameLength, name);
        var buffer = ArrayPool<byte>.Shared.Rent(nameLength + content.Length);
        Encoding.UTF8.GetBytes(name, buffer);
        content.Span.CopyTo(buffer.AsSpan(nameLength));
        var entry = new QueuedEntry(buffer, nameLength, content.Length, level == CompressionLevel.NoCompression ? (ushort)0 : (ushort)8, level);
        var previous = _queued;
        _queued = Task.Run(async () =>
        {
            try
            {
                await previous;
                await WriteWholeEntryAsync(entry, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }, CancellationToken.None);
        _inQueue.Enqueue(_queued);
        while (_inQueue.Count > QueuedEntries)
        {
            await _inQueue.Dequeue();
        }
    }

    private readonly record struct QueuedEntry(byte[] Buffer, int NameLength, int ContentLength, ushort Method, CompressionLevel Level);

    private Task _queued = Task.CompletedTask;
    private readonly Queue<Task> _inQueue = new();
    private byte[] _scratch = new byte[4096];
    private MemoryStream? _deflated;

    /// <summary>Header, data and descriptor of a whole entry in one write, then its central record.</summary>
    private async Task WriteWholeEntryAsync(QueuedEntry entry, CancellationToken cancellationToken)
    {
        var name = entry.Buffer.AsMemory(0, entry.NameLength);
        var content = entry.Buffer.AsMemory(entry.NameLength, entry.ContentLength);
        var offset = _position;
        var crc = Crc32.HashToUInt32(content.Span);
        var headerLength = LocalHeaderLength(entry.NameLength);
        ReadOnlyMemory<byte> data = content;
        if (entry.Method != 0)
        {
            _deflated ??= new MemoryStream();
            _deflated.SetLength(0);
            using (var deflate = new DeflateStream(_deflated, entry.Level, leaveOpen: true))
            {
                deflate.Write(content.Span);
            }

            data = _deflated.GetBuffer().AsMemory(0, (int)_deflated.Length);
        }

        var total = headerLength + data.Length + DescriptorLength;
        if (_scratch.Length < total)
        {
            _scratch = new byte[Math.Max(total, _scratch.Length * 2)];
        }

        var span = _scratch.AsSpan();
        WriteLocalHeader(span, name.Span, entry.Method);
        data.Span.CopyTo(span[headerLength..]);
        WriteDescriptor(span[(headerLength + data.Length)..], crc, data.Length, entry.ContentLength);
        await WriteAsync(_scratch.AsMemory(0, total), cancellationToken);
        await WriteCentralRecordAsync(name, entry.Method, offset, crc, data.Length, entry.ContentLength, cancellationToken);
    }

    private static void CheckNameLength(int length, string name)
    {
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException("An entry name is at most 65,535 bytes.", nameof(name));
        }
    }

    // The ZIP64 extra field announces 8-byte sizes in the data descriptor; its values are unknown yet (0).
    private static int LocalHeaderLength(int nameLength) => 30 + nameLength + 20;

    private const int DescriptorLength = 24;

    private void WriteLocalHeader(Span<byte> span, ReadOnlySpan<byte> nameBytes, ushort method)
    {
        span[..LocalHeaderLength(nameBytes.Length)].Clear();
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
    }

    private static void WriteDescriptor(Span<byte> span, uint crc, long compressed, long uncompressed)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(span, DataDescriptorSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], crc);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], compressed);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], uncompressed);
    }

    private async Task CloseEntryAsync(byte[] nameBytes, ushort method, long offset, uint crc, long compressed, long uncompressed, CancellationToken cancellationToken)
    {
        var descriptor = new byte[DescriptorLength];
        WriteDescriptor(descriptor, crc, compressed, uncompressed);
        await WriteAsync(descriptor, cancellationToken);
        await WriteCentralRecordAsync(nameBytes, method, offset, crc, compressed, uncompressed, cancellationToken);
        _entryOpen = false;
    }

    private byte[] _record = new byte[256];

    private async Task WriteCentralRecordAsync(ReadOnlyMemory<byte> nameBytes, ushort method, long offset, uint crc, long compressed, long uncompressed, CancellationToken cancellationToken)
    {
        // Central record: 32-bit fields where the values fit, a ZIP64 extra field with the ones that do not.
        var zip64Count = (uncompressed >= uint.MaxValue ? 1 : 0) + (compressed >= uint.MaxValue ? 1 : 0) + (offset >= uint.MaxValue ? 1 : 0);
        var extraLength = zip64Count == 0 ? 0 : 4 + 8 * zip64Count;
        var length = 46 + nameBytes.Length + extraLength;
        if (_record.Length < length)
        {
            _record = new byte[length];
        }

        var span = _record.AsSpan(0, length);
        span.Clear();
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
        nameBytes.Span.CopyTo(span[46..]);
        if (extraLength > 0)
        {
            var extra = span[(46 + nameBytes.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)(8 * zip64Count));
            var at = 4;
            foreach (var (value, large) in (ReadOnlySpan<(long, bool)>)[(uncompressed, uncompressed >= uint.MaxValue), (compressed, compressed >= uint.MaxValue), (offset, offset >= uint.MaxValue)])
            {
                if (large)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(extra[at..], value);
                    at += 8;
                }
            }
        }

        await _central.WriteAsync(_record.AsMemory(0, length), cancellationToken);
        _entries++;
    }

    /// <summary>Writes the central directory and the end records. The output stays open.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_entryOpen)
        {
            throw new InvalidOperationException("An entry is still open.");
        }

        await _queued;
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
        try
        {
            // Queued entries still hold the output and their pooled buffers: let them finish before closing.
            await _queued;
        }
        catch (Exception)
        {
            // Reported by the call that awaited the queue (or lost with the archive being abandoned).
        }

        await _central.DisposeAsync();
        await _centralSpool.DisposeAsync();
    }

    /// <summary>Size of the blocks a large entry is deflated in, each on its own. A block ends with a sync flush, so
    /// the blocks' deflate streams concatenate into one; each starts without the previous block's window, which costs
    /// a fraction of a percent of the compressed size.</summary>
    public const int BlockBytes = 1024 * 1024;

    /// <summary>Blocks compressing at once: one per core, and one more so a core never waits for the writer.</summary>
    private static readonly int BlocksInFlight = Environment.ProcessorCount + 1;

    /// <summary>Counts and checksums what the caller writes, compresses it, and counts what reaches the archive. Deflated
    /// entries collect their first block in memory: an entry that ends within it is deflated in one piece, as before;
    /// a larger one is deflated block by block on the thread pool and written in order.</summary>
    private sealed class EntryStream : Stream
    {
        private readonly StreamingZipWriter _zip;
        private readonly byte[] _nameBytes;
        private readonly ushort _method;
        private readonly long _offset;
        private readonly CompressionLevel _level;
        private readonly Crc32 _crc = new();
        private readonly CountingStream _counter;
        private readonly Queue<Task<(byte[] Bytes, int Length)>> _blocks = new();

        // The entry's own blocks and deflated outputs, reused block after block and dropped with the entry. From the
        // shared pool they were rented on one thread and returned on another, so each thread that ever returned one
        // kept a megabyte in its own slot; over a CSV export that came to a dozen large arrays nobody would rent again.
        private readonly ConcurrentBag<byte[]> _inputs = [];
        private readonly ConcurrentBag<byte[]> _outputs = [];
        private byte[]? _block;
        private int _filled;
        private long _uncompressed;
        private bool _closed;

        public EntryStream(StreamingZipWriter zip, byte[] nameBytes, ushort method, long offset, CompressionLevel level)
        {
            _zip = zip;
            _nameBytes = nameBytes;
            _method = method;
            _offset = offset;
            _level = level;
            _counter = new CountingStream(zip._output);
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
            if (_method == 0)
            {
                _counter.Write(buffer);
                return;
            }

            while (!buffer.IsEmpty)
            {
                var taken = Fill(buffer);
                buffer = buffer[taken..];
                if (!buffer.IsEmpty)
                {
                    StartBlock(final: false);
                    while (_blocks.Count > BlocksInFlight)
                    {
                        var (bytes, length) = _blocks.Dequeue().GetAwaiter().GetResult();
                        _counter.Write(bytes.AsSpan(0, length));
                        _outputs.Add(bytes);
                    }
                }
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _crc.Append(buffer.Span);
            _uncompressed += buffer.Length;
            if (_method == 0)
            {
                await _counter.WriteAsync(buffer, cancellationToken);
                return;
            }

            while (!buffer.IsEmpty)
            {
                var taken = Fill(buffer.Span);
                buffer = buffer[taken..];
                if (!buffer.IsEmpty)
                {
                    // Only a full block with more to come is sent off, so the last block is never empty.
                    StartBlock(final: false);
                    while (_blocks.Count > BlocksInFlight)
                    {
                        await WriteOldestAsync(cancellationToken);
                    }
                }
            }
        }

        /// <summary>Copies what fits into the current block.</summary>
        private int Fill(ReadOnlySpan<byte> buffer)
        {
            _block ??= _inputs.TryTake(out var free) ? free : new byte[BlockBytes];
            var taken = Math.Min(buffer.Length, BlockBytes - _filled);
            buffer[..taken].CopyTo(_block.AsSpan(_filled));
            _filled += taken;
            return taken;
        }

        private void StartBlock(bool final)
        {
            var block = _block!;
            var filled = _filled;
            var level = _level;
            _blocks.Enqueue(Task.Factory.StartNew(() => Deflate(block, filled, level, final), CancellationToken.None, TaskCreationOptions.DenyChildAttach, CompressionThreads.Scheduler));
            _block = null;
            _filled = 0;
        }

        private (byte[] Bytes, int Length) Deflate(byte[] block, int length, CompressionLevel level, bool final)
        {
            try
            {
                using var output = new BlockOutput(_outputs.TryTake(out var free) ? free : new byte[BlockBytes / 4]);
                long kept;
                using (var deflate = new DeflateStream(output, level, leaveOpen: true))
                {
                    deflate.Write(block, 0, length);
                    // A sync flush ends the block on a byte boundary without marking the stream's end; what disposing
                    // adds after it (an empty final block) is cut off, except after the entry's last block.
                    deflate.Flush();
                    kept = output.Length;
                }

                return output.Detach(final ? (int)output.Length : (int)kept);
            }
            finally
            {
                _inputs.Add(block);
            }
        }

        private async Task WriteOldestAsync(CancellationToken cancellationToken)
        {
            var (bytes, length) = await _blocks.Dequeue();
            try
            {
                await _counter.WriteAsync(bytes.AsMemory(0, length), cancellationToken);
            }
            finally
            {
                _outputs.Add(bytes);
            }
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
                try
                {
                    if (_method != 0 && _blocks.Count == 0)
                    {
                        // Within one block: deflated in one piece.
                        await using (var deflate = new DeflateStream(_counter, _level, leaveOpen: true))
                        {
                            if (_filled > 0)
                            {
                                await deflate.WriteAsync(_block.AsMemory(0, _filled), CancellationToken.None);
                            }
                        }
                    }
                    else if (_method != 0)
                    {
                        StartBlock(final: true);
                        while (_blocks.Count > 0)
                        {
                            await WriteOldestAsync(CancellationToken.None);
                        }
                    }
                }
                finally
                {
                    _block = null;
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

    /// <summary>A growable output for one block's deflated bytes, starting on a reused array: a megabyte of text
    /// deflates to a few hundred kilobytes, so a quarter of a block is usually enough and it grows when not.</summary>
    private sealed class BlockOutput(byte[] initial) : Stream
    {
        private byte[] _buffer = initial;
        private int _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_length + buffer.Length > _buffer.Length)
            {
                var larger = new byte[Math.Max(_length + buffer.Length, _buffer.Length * 2)];
                _buffer.AsSpan(0, _length).CopyTo(larger);
                _buffer = larger;
            }

            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        /// <summary>The array (the caller hands it back for reuse) with the first <paramref name="length"/> bytes kept.</summary>
        public (byte[] Bytes, int Length) Detach(int length) => (_buffer, length);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
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
