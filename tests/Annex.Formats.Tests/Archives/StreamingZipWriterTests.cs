using System.IO.Compression;
using System.Text;
using Xunit;

namespace Annex.Formats.Tests.Archives;

/// <summary>The streaming zip writer, read back with System.IO.Compression's reader.</summary>
public sealed class StreamingZipWriterTests
{
    private static readonly DateTime Timestamp = new(2026, 3, 4, 5, 6, 8, DateTimeKind.Utc);

    [Fact]
    public async Task Entries_read_back_with_their_names_bytes_and_timestamp()
    {
        var output = new NonSeekableStream();
        var image = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        await using (var zip = new StreamingZipWriter(output, Timestamp))
        {
            await using (var entry = await zip.OpenEntryAsync("labels/train/ü_1.txt", CompressionLevel.Optimal, CancellationToken.None))
            {
                await entry.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("0 0.5 0.5 0.1 0.1\n", 1000))));
            }

            await using (var entry = await zip.OpenEntryAsync("images/train/a.png", CompressionLevel.NoCompression, CancellationToken.None))
            {
                await entry.WriteAsync(image);
            }

            await using (await zip.OpenEntryAsync("empty.txt", CompressionLevel.Fastest, CancellationToken.None))
            {
            }

            await zip.CompleteAsync(CancellationToken.None);
        }

        using var read = new ZipArchive(new MemoryStream(output.Inner.ToArray()));
        Assert.Equal(["labels/train/ü_1.txt", "images/train/a.png", "empty.txt"], read.Entries.Select(e => e.FullName));
        Assert.Equal(string.Concat(Enumerable.Repeat("0 0.5 0.5 0.1 0.1\n", 1000)), new StreamReader(read.Entries[0].Open()).ReadToEnd());
        Assert.True(read.Entries[0].CompressedLength < read.Entries[0].Length / 10);
        using var copy = new MemoryStream();
        await read.Entries[1].Open().CopyToAsync(copy);
        Assert.Equal(image, copy.ToArray());
        Assert.Equal(read.Entries[1].Length, read.Entries[1].CompressedLength); // stored as it is
        Assert.Equal(0, read.Entries[2].Length);
        Assert.Equal(new DateTime(2026, 3, 4, 5, 6, 8), read.Entries[0].LastWriteTime.DateTime);
    }

    [Fact]
    public async Task More_than_65535_entries_use_zip64_end_records()
    {
        var output = new MemoryStream();
        const int Count = 70_000;
        await using (var zip = new StreamingZipWriter(output, Timestamp))
        {
            for (var i = 0; i < Count; i++)
            {
                await using var entry = await zip.OpenEntryAsync($"labels/{i}.txt", CompressionLevel.Fastest, CancellationToken.None);
                await entry.WriteAsync(Encoding.ASCII.GetBytes($"{i}\n"));
            }

            await zip.CompleteAsync(CancellationToken.None);
        }

        using var read = new ZipArchive(new MemoryStream(output.ToArray()));
        Assert.Equal(Count, read.Entries.Count);
        Assert.Equal("69999\n", new StreamReader(read.GetEntry("labels/69999.txt")!.Open()).ReadToEnd());
    }

    [Fact]
    public async Task The_same_entries_give_the_same_bytes()
    {
        async Task<byte[]> Write()
        {
            var output = new MemoryStream();
            await using var zip = new StreamingZipWriter(output, Timestamp);
            await using (var entry = await zip.OpenEntryAsync("a.txt", CompressionLevel.Fastest, CancellationToken.None))
            {
                await entry.WriteAsync("hello"u8.ToArray());
            }

            await zip.CompleteAsync(CancellationToken.None);
            return output.ToArray();
        }

        Assert.Equal(await Write(), await Write());
    }

    [Theory]
    [InlineData(StreamingZipWriter.BlockBytes - 1)]
    [InlineData(StreamingZipWriter.BlockBytes)]
    [InlineData(2 * StreamingZipWriter.BlockBytes)]
    [InlineData(5 * StreamingZipWriter.BlockBytes + 12_345)]
    public async Task Large_entries_deflated_in_blocks_read_back_whole(int length)
    {
        // Text-like bytes with repeats (so deflate back-references reach across writes) and noise.
        var random = new Random(length);
        var content = new byte[length];
        for (var i = 0; i < length; i++)
        {
            content[i] = i % 97 < 60 ? (byte)('a' + i % 26) : (byte)random.Next(256);
        }

        var output = new NonSeekableStream();
        await using (var zip = new StreamingZipWriter(output, Timestamp))
        {
            await zip.WriteEntryAsync("small-before.txt", "before"u8.ToArray(), CompressionLevel.Fastest, CancellationToken.None);
            await using (var entry = await zip.OpenEntryAsync("large.bin", CompressionLevel.Fastest, CancellationToken.None))
            {
                // Writes of uneven sizes, some sync and some async, crossing block boundaries.
                for (var at = 0; at < length;)
                {
                    var size = Math.Min(length - at, 1 + random.Next(300_000));
                    if (size % 2 == 0)
                    {
                        await entry.WriteAsync(content.AsMemory(at, size));
                    }
                    else
                    {
                        entry.Write(content, at, size);
                    }

                    at += size;
                }
            }

            await zip.WriteEntryAsync("small-after.txt", "after"u8.ToArray(), CompressionLevel.NoCompression, CancellationToken.None);
            await zip.CompleteAsync(CancellationToken.None);
        }

        using var read = new ZipArchive(new MemoryStream(output.Inner.ToArray()));
        Assert.Equal(["small-before.txt", "large.bin", "small-after.txt"], read.Entries.Select(e => e.FullName));
        using var copy = new MemoryStream();
        await using (var stream = read.Entries[1].Open())
        {
            await stream.CopyToAsync(copy);
        }

        Assert.Equal(content, copy.ToArray());
        Assert.True(read.Entries[1].CompressedLength < length);
        Assert.Equal("before", new StreamReader(read.Entries[0].Open()).ReadToEnd());
        Assert.Equal("after", new StreamReader(read.Entries[2].Open()).ReadToEnd());
    }

    [Fact]
    public async Task Whole_entries_queued_for_compression_keep_their_order_and_bytes()
    {
        var output = new MemoryStream();
        const int Count = 500;
        var buffer = new byte[4096];
        await using (var zip = new StreamingZipWriter(output, Timestamp))
        {
            for (var i = 0; i < Count; i++)
            {
                // The caller reuses its buffer at once: the writer must have copied it.
                var length = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"{i} 0.5 0.25\n", i % 300)), buffer);
                await zip.WriteEntryAsync($"labels/{i}.txt", buffer.AsMemory(0, length), i % 3 == 0 ? CompressionLevel.NoCompression : CompressionLevel.Fastest, CancellationToken.None);
                Array.Clear(buffer);
            }

            await zip.CompleteAsync(CancellationToken.None);
        }

        using var read = new ZipArchive(new MemoryStream(output.ToArray()));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"labels/{i}.txt"), read.Entries.Select(e => e.FullName));
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(string.Concat(Enumerable.Repeat($"{i} 0.5 0.25\n", i % 300)), new StreamReader(read.Entries[i].Open()).ReadToEnd());
        }
    }

    /// <summary>Like a network or upload stream: no Position, no Seek.</summary>
    private sealed class NonSeekableStream : Stream
    {
        public MemoryStream Inner { get; } = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);
    }
}
