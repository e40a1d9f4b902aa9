using System.Text;

namespace Annex.Formats.Import;

public static partial class CocoImporter
{
    /// <summary>
    /// The images of a streamed COCO file in arrays of numbers rather than an object per image. For the whole read it
    /// keeps what the second pass needs to find an image and know when it has all its annotations: each image's count
    /// of annotations still to read and, unless the ids are consecutive in file order (then an id gives the position
    /// itself), the ids with an open-addressing table of positions. Only during the first pass, to find two images of
    /// one name, it also keeps the file names as UTF-8 in one buffer and a table of positions by ref_id
    /// (<see cref="ForgetNames"/> lets them go); the second pass reads names and sizes again from the file. An image
    /// costs 4 bytes in the second pass when its id follows the one before (16 to 24 otherwise), and about 20 plus its
    /// file name in the first, against about 300 as objects in dictionaries. The annotations read for an image that
    /// has not been handed out yet are held apart, and only until it is.
    /// </summary>
    internal sealed class ImageTable
    {
        private int[] _waiting = new int[256];

        // While every id is the one before plus one, no id is stored: the position is the id less the first.
        private bool _consecutive = true;
        private long _firstId;
        private long[]? _ids;

        // Position + 1 of each image (0 is an empty slot); at most half full.
        private int[]? _byId;

        // Only until ForgetNames.
        private int[]? _textStart = new int[256];
        private int[]? _refIdHashes = new int[256];
        private byte[]? _text = new byte[4096];
        private int _textLength;
        private int[]? _byRefId = new int[512];

        private readonly Dictionary<int, List<ImportedAnnotation>> _objects = [];

        public int Count { get; private set; }

        /// <summary>The position of the image with <paramref name="id"/>, or -1.</summary>
        public int IndexOf(long id)
        {
            if (_consecutive)
            {
                var offset = unchecked((ulong)(id - _firstId));
                return offset < (ulong)Count ? (int)offset : -1;
            }

            var mask = _byId!.Length - 1;
            for (var slot = IdHash(id) & mask; ; slot = (slot + 1) & mask)
            {
                var entry = _byId[slot];
                if (entry == 0)
                {
                    return -1;
                }

                if (_ids![entry - 1] == id)
                {
                    return entry - 1;
                }
            }
        }

        public bool HasRefId(string refId)
        {
            var hash = RefIdHash(refId);
            var mask = _byRefId!.Length - 1;
            for (var slot = hash & mask; ; slot = (slot + 1) & mask)
            {
                var entry = _byRefId[slot];
                if (entry == 0)
                {
                    return false;
                }

                if (_refIdHashes![entry - 1] == hash && RefId(entry - 1) == refId)
                {
                    return true;
                }
            }
        }

        /// <summary>Adds an image; the caller has checked that neither its id nor its ref_id is taken.</summary>
        public void Add(long id, string fileName, string refId)
        {
            var index = Count;
            if (index == _waiting.Length)
            {
                var size = checked(index * 2);
                Array.Resize(ref _waiting, size);
                Array.Resize(ref _textStart, size);
                Array.Resize(ref _refIdHashes, size);
                if (_ids is not null)
                {
                    Array.Resize(ref _ids, size);
                }
            }

            _textStart![index] = _textLength;
            Append(fileName);
            _refIdHashes![index] = RefIdHash(refId);
            if (index == 0)
            {
                _firstId = id;
            }
            else if (_consecutive && id != unchecked(_firstId + index))
            {
                // The first id out of step: from here on the ids are stored and found through a table.
                _consecutive = false;
                _ids = new long[_waiting.Length];
                for (var i = 0; i < index; i++)
                {
                    _ids[i] = unchecked(_firstId + i);
                }
            }

            if (_ids is not null)
            {
                _ids[index] = id;
            }

            Count = index + 1;
            var grow = Count * 2 > _byRefId!.Length;
            if (grow)
            {
                _byRefId = new int[_byRefId.Length * 2];
                for (var i = 0; i < index; i++)
                {
                    Place(_byRefId, _refIdHashes[i], i);
                }
            }

            Place(_byRefId, _refIdHashes[index], index);
            if (_ids is not null)
            {
                if (_byId is null || grow || _byId.Length < _byRefId.Length)
                {
                    _byId = new int[_byRefId.Length];
                    for (var i = 0; i < index; i++)
                    {
                        Place(_byId, IdHash(_ids[i]), i);
                    }
                }

                Place(_byId, IdHash(id), index);
            }
        }

        /// <summary>Lets go of the file names and the table of ref_ids, once no image is to be added or found by name.</summary>
        public void ForgetNames()
        {
            _text = null;
            _textStart = null;
            _refIdHashes = null;
            _byRefId = null;
        }

        public string FileName(int index)
        {
            var start = _textStart![index];
            var end = index + 1 < Count ? _textStart[index + 1] : _textLength;
            return Encoding.UTF8.GetString(_text!, start, end - start);
        }

        public string RefId(int index) => RefIdOf(FileName(index));

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

        private void Append(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            if (_text!.Length - _textLength < length)
            {
                Array.Resize(ref _text, Math.Max(checked(_textLength + length), (int)Math.Min(Array.MaxLength, 2L * _text.Length)));
            }

            Encoding.UTF8.GetBytes(value, 0, value.Length, _text, _textLength);
            _textLength += length;
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
