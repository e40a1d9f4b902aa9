using System.Buffers;

namespace Annex.Formats;

/// <summary>
/// The item uids of a document, each with its position (the order in which they were added), kept compact: a uid in
/// the canonical form of a GUID (lowercase, with dashes, as exports write them) is kept as a <see cref="Guid"/> in an
/// array by position, found through an open-addressing table of positions; any other uid is kept as a string apart.
/// A uid in GUID form costs 24 to 32 bytes, against about 130 as a string in a hash set. Uids compare as ordinal
/// strings, as before: an uppercase GUID is not the same uid as its lowercase form.
/// </summary>
internal sealed class ItemUidTable
{
    private static readonly SearchValues<char> LowerHexDigits = SearchValues.Create("0123456789abcdef");

    // By position; a position whose uid is kept as a string holds Guid.Empty and is not in _slots.
    private Guid[] _guids = new Guid[256];

    // Position + 1 of each uid in GUID form (0 is an empty slot); at most half full.
    private int[] _slots = new int[512];
    private int _guidCount;

    private Dictionary<string, int>? _others;

    public int Count { get; private set; }

    /// <summary>Adds <paramref name="uid"/> at the next position; false (and nothing added) when it is already there.</summary>
    public bool Add(string uid)
    {
        if (!TryCanonical(uid, out var guid))
        {
            _others ??= new(StringComparer.Ordinal);
            if (!_others.TryAdd(uid, Count))
            {
                return false;
            }

            Append(Guid.Empty);
            return true;
        }

        if (Find(guid) >= 0)
        {
            return false;
        }

        if ((_guidCount + 1) * 2 > _slots.Length)
        {
            var slots = new int[_slots.Length * 2];
            foreach (var entry in _slots)
            {
                if (entry != 0)
                {
                    Place(slots, _guids[entry - 1], entry - 1);
                }
            }

            _slots = slots;
        }

        Place(_slots, guid, Count);
        _guidCount++;
        Append(guid);
        return true;
    }

    public bool Contains(string uid) => IndexOf(uid) >= 0;

    /// <summary>The position of <paramref name="uid"/>, or -1.</summary>
    public int IndexOf(string uid)
    {
        if (TryCanonical(uid, out var guid))
        {
            return Find(guid);
        }

        return _others is not null && _others.TryGetValue(uid, out var position) ? position : -1;
    }

    private void Append(Guid guid)
    {
        if (Count == _guids.Length)
        {
            Array.Resize(ref _guids, _guids.Length * 2);
        }

        _guids[Count++] = guid;
    }

    private int Find(Guid guid)
    {
        var mask = _slots.Length - 1;
        for (var slot = Slot(guid, mask); ; slot = (slot + 1) & mask)
        {
            var entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }

            if (_guids[entry - 1] == guid)
            {
                return entry - 1;
            }
        }
    }

    private static void Place(int[] slots, Guid guid, int position)
    {
        var mask = slots.Length - 1;
        var slot = Slot(guid, mask);
        while (slots[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }

        slots[slot] = position + 1;
    }

    private static int Slot(Guid guid, int mask) =>
        (int)(unchecked((ulong)(uint)guid.GetHashCode() * 0x9E3779B97F4A7C15UL) >>> 32) & mask;

    /// <summary>A uid written as <see cref="Guid.ToString()"/> writes it: 36 characters, lowercase hex digits and four
    /// dashes. Only such a uid is kept as a GUID, so that two uids are the same exactly when their strings are.</summary>
    private static bool TryCanonical(string uid, out Guid guid)
    {
        guid = default;
        if (uid.Length != 36 || uid[8] != '-' || uid[13] != '-' || uid[18] != '-' || uid[23] != '-')
        {
            return false;
        }

        var text = uid.AsSpan();
        return !text[..8].ContainsAnyExcept(LowerHexDigits)
            && !text[9..13].ContainsAnyExcept(LowerHexDigits)
            && !text[14..18].ContainsAnyExcept(LowerHexDigits)
            && !text[19..23].ContainsAnyExcept(LowerHexDigits)
            && !text[24..].ContainsAnyExcept(LowerHexDigits)
            && Guid.TryParseExact(text, "D", out guid);
    }
}
