using System.Text;

namespace Annex.Formats.Import;

public static partial class CocoImporter
{
    /// <summary>
    /// The images of a streamed COCO file, kept for the whole read in arrays of numbers rather than an object per
    /// image: ids, sizes and annotation counts side by side, the file names (and media paths) as UTF-8 in one buffer,
    /// and two open-addressing hash tables of positions to find an image by id or by ref_id. An image costs about 60
    /// to 80 bytes plus its file name, against about 300 as objects in dictionaries. The annotations read for an image
    /// that has not been handed out yet are held apart, and only until it is.
    /// </summary>
    internal sealed class ImageTable
    {
        private const int NoMedia = -1;

        private long[] _ids = new long[256];
        private int[] _widths = new int[256];
        private int[] _heights = new int[256];
        private int[] _waiting = new int[256];
        private int[] _textStart = new int[256];
        private int[] _nameLength = new int[256];
        private int[] _mediaLength = new int[256];
        private int[] _refIdHashes = new int[256];
        private byte[] _text = new byte[4096];
        private int _textLength;

        // Position + 1 of each image (0 is an empty slot); at most half full.
        private int[] _byId = new int[512];
        private int[] _byRefId = new int[512];

        private readonly Dictionary<int, List<ImportedAnnotation>> _objects = [];

        public int Count { get; private set; }

        /// <summary>The position of the image with <paramref name="id"/>, or -1.</summary>
        public int IndexOf(long id)
        {
            var mask = _byId.Length - 1;
            for (var slot = IdHash(id) & mask; ; slot = (slot + 1) & mask)
            {
                var entry = _byId[slot];
                if (entry == 0)
                {
                    return -1;
                }

                if (_ids[entry - 1] == id)
                {
                    return entry - 1;
                }
            }
        }

        public bool HasRefId(string refId)
        {
            var hash = RefIdHash(refId);
            var mask = _byRefId.Length - 1;
            for (var slot = hash & mask; ; slot = (slot + 1) & mask)
            {
                var entry = _byRefId[slot];
                if (entry == 0)
                {
                    return false;
                }

                if (_refIdHashes[entry - 1] == hash && RefId(entry - 1) == refId)
                {
                    return true;
                }
            }
        }

        /// <summary>Adds an image; the caller has checked that neither its id nor its ref_id is taken.</summary>
        public void Add(long id, string fileName, string refId, int? width, int? height, string? mediaPath)
        {
            var index = Count;
            if (index == _ids.Length)
            {
                var size = checked(index * 2);
                Array.Resize(ref _ids, size);
                Array.Resize(ref _widths, size);
                Array.Resize(ref _heights, size);
                Array.Resize(ref _waiting, size);
                Array.Resize(ref _textStart, size);
                Array.Resize(ref _nameLength, size);
                Array.Resize(ref _mediaLength, size);
                Array.Resize(ref _refIdHashes, size);
            }

            _ids[index] = id;
            _widths[index] = width ?? 0;
            _heights[index] = height ?? 0;
            _textStart[index] = _textLength;
            _nameLength[index] = Append(fileName);
            _mediaLength[index] = mediaPath is null ? NoMedia : Append(mediaPath);
            _refIdHashes[index] = RefIdHash(refId);
            Count = index + 1;

            if (Count * 2 > _byId.Length)
            {
                _byId = new int[_byId.Length * 2];
                _byRefId = new int[_byRefId.Length * 2];
                for (var i = 0; i < Count; i++)
                {
                    Place(_byId, IdHash(_ids[i]), i);
                    Place(_byRefId, _refIdHashes[i], i);
                }
            }
            else
            {
                Place(_byId, IdHash(id), index);
                Place(_byRefId, _refIdHashes[index], index);
            }
        }

        public string FileName(int index) => Encoding.UTF8.GetString(_text, _textStart[index], _nameLength[index]);

        public string RefId(int index) => RefIdOf(FileName(index));

        public string? MediaPath(int index) => _mediaLength[index] == NoMedia
            ? null
            : Encoding.UTF8.GetString(_text, _textStart[index] + _nameLength[index], _mediaLength[index]);

        public int? Width(int index) => _widths[index] == 0 ? null : _widths[index];

        public int? Height(int index) => _heights[index] == 0 ? null : _heights[index];

        /// <summary>How many of the image's annotations are still to be read (counted in a first pass over the file).</summary>
        public ref int Waiting(int index) => ref _waiting[index];

        /// <summary>Where the annotations read for the image go until it is handed out.</summary>
        public List<ImportedAnnotation> Objects(int index)
        {
            if (!_objects.TryGetValue(index, out var list))
            {
                list = [];
                _objects.Add(index, list);
            }

            return list;
        }

        /// <summary>The image's annotations read so far, let go of here.</summary>
        public ImportedAnnotation[] TakeObjects(int index) => _objects.Remove(index, out var list) ? [.. list] : [];

        private int Append(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            if (_text.Length - _textLength < length)
            {
                Array.Resize(ref _text, Math.Max(checked(_textLength + length), (int)Math.Min(Array.MaxLength, 2L * _text.Length)));
            }

            Encoding.UTF8.GetBytes(value, 0, value.Length, _text, _textLength);
            _textLength += length;
            return length;
        }

        private static void Place(int[] slots, int hash, int index)
        {
            var mask = slots.Length - 1;
            var slot = hash & mask;
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = index + 1;
        }

        private static int IdHash(long id) => (int)((ulong)id * 0x9E3779B97F4A7C15UL >> 33);

        private static int RefIdHash(string refId) => string.GetHashCode(refId, StringComparison.Ordinal) & int.MaxValue;
    }
}
