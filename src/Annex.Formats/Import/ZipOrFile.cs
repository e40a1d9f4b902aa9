namespace Annex.Formats.Import;

/// <summary>Importers that take either a zip or the plain file inside one: looks at the first bytes and hands
/// the stream (made seekable, buffered when it is not) to the matching reader.</summary>
internal static class ZipOrFile
{
    public static ImportedDataset Read(Stream input, Func<Stream, ImportedDataset> readZip, Func<Stream, ImportedDataset> readFile)
    {
        ArgumentNullException.ThrowIfNull(input);
        var seekable = input.CanSeek ? input : Buffer(input);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            var read = seekable.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            seekable.Position -= read;
            return read == 4 && magic.SequenceEqual("PK\u0003\u0004"u8) ? readZip(seekable) : readFile(seekable);
        }
        finally
        {
            if (!ReferenceEquals(seekable, input))
            {
                seekable.Dispose();
            }
        }
    }

    private static MemoryStream Buffer(Stream stream)
    {
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return copy;
    }
}
