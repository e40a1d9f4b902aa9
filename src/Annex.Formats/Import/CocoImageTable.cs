namespace Annex.Formats.Import;

public static partial class CocoImporter
{
    /// <summary>
    /// The images of a streamed COCO file in arrays of numbers rather than an object per image, and no names. For the
    /// whole read it keeps what the second pass needs to find an image and know when it has all its annotations: each
    /// image's count of annotations still to read and, unless the ids are consecutive in file order (then an id gives
    /// the position itself), the ids with an open-addressing table of positions. Only during the first pass, to find
    /// two images of one name, it also keeps a 64-bit hash of each ref_id in a table of positions
    /// (<see cref="ForgetNames"/> lets it go); when two hashes match, the earlier image's name is read again from the
    /// file to compare. The second pass reads names and sizes again from the file too. An image costs 4 bytes in the
    /// second pass when its id follows the one before (16 to 24 otherwise) and 20 to 30 in the first, against about
    /// 300 as objects in dictionaries. The annotations read for an image that has not been handed out yet are held
    /// apart, and only until it is.
    /// </summary>
    /// <param name="refIdAt">Reads the ref_id of the image at a position again from the file.</param>
    internal sealed class ImageTable(Func<int, string> refIdAt)
    {
        private int[] _waiting = new int[256];

        // While every id is the one before plus one, no id is stored: the position is the id less the first.
        private bool _consecutive = true;
        private long _firstId;
        private long[]? _ids;

        // Position + 1 of each image (0 is an empty slot); at most half full.
        private int[]? _byId;

        // Only until ForgetNames.
        private long[]? _refIdHashes = new long[256];
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
            for (var slot = Slot(IdHash(id), mask); ; slot = (slot + 1) & mask)
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
            for (var slot = Slot(hash, mask); ; slot = (slot + 1) & mask)
            {
                var entry = _byRefId[slot];
                if (entry == 0)
                {
                    return false;
                }

                // Equal hashes of different names are rare enough to read the earlier name again.
                if (_refIdHashes![entry - 1] == hash && refIdAt(entry - 1) == refId)
                {
                    return true;
                }
            }
        }

        /// <summary>Adds an image; the caller has checked that neither its id nor its ref_id is taken.</summary>
        public void Add(long id, string refId)
        {
            var index = Count;
            if (index == _waiting.Length)
            {
                var size = checked(index * 2);
                Array.Resize(ref _waiting, size);
                Array.Resize(ref _refIdHashes, size);
                if (_ids is not null)
                {
                    Array.Resize(ref _ids, size);
                }
            }

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
                if (_byId is null || _byId.Length < _byRefId.Length)
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

        /// <summary>Lets go of the ref_id hashes, once no image is to be added or found by name.</summary>
        public void ForgetNames()
        {
            _refIdHashes = null;
            _byRefId = null;
        }

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

        private static void Place(int[] slots, long hash, int index)
        {
            var mask = slots.Length - 1;
            var slot = Slot(hash, mask);
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = index + 1;
        }

        private static int Slot(long hash, int mask) => (int)(hash >>> 32) & mask;

        private static long IdHash(long id) => unchecked((long)((ulong)id * 0x9E3779B97F4A7C15UL));

        /// <summary>FNV-1a over the ref_id's characters, mixed so that every bit of the result depends on every character.</summary>
        private static long RefIdHash(string refId)
        {
            var hash = 14695981039346656037UL;
            foreach (var c in refId)
            {
                hash = unchecked((hash ^ c) * 1099511628211UL);
            }

            hash ^= hash >> 33;
            hash = unchecked(hash * 0xFF51AFD7ED558CCDUL);
            hash ^= hash >> 33;
            hash = unchecked(hash * 0xC4CEB9FE1A85EC53UL);
            hash ^= hash >> 33;
            return unchecked((long)hash);
        }
    }
}
