using System.Diagnostics.Tracing;
using System.Globalization;

namespace Annex.Bench;

/// <summary>What the process's resident memory is made of while an export runs (Linux only): every few
/// milliseconds the resident set, and at each new high a walk of <c>/proc/self/smaps</c> split into the GC's
/// heap (the anonymous range the GC reserved), other anonymous memory (native allocations: zlib, SQLite,
/// thread stacks), the double-mapped JIT code and file-backed mappings (the runtime's libraries and
/// assemblies), next to the GC's own figures. Reports the breakdown at the highest resident set seen.</summary>
public sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private readonly (ulong Start, ulong End)? _gcRange;

    private readonly GcEvents _events = new();

    private MemorySampler()
    {
        _gcRange = FindGcRange();
        _thread = new Thread(Run) { IsBackground = true, Name = "memory sampler", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public Breakdown? Peak { get; private set; }

    /// <summary>The GC's events over the whole run (the breakdown has them as they were at the peak).</summary>
    public string GcSummary => _events.Describe();

    public static MemorySampler? TryStart() => File.Exists("/proc/self/smaps") ? new MemorySampler() : null;

    public sealed record Breakdown(
        long RssBytes, long GcRangeRssBytes, long OtherAnonymousBytes, long ShmemBytes, long FileBytes,
        long GcHeapBytesNow, long GcCommittedAtLastGc, long GcHeapAtLastGc, long GcFragmentedAtLastGc, long GcIndex, int Threads, string Events);

    private int _restart;

    /// <summary>Forgets the highest so far; called right after the kernel's own peak (VmHWM) is reset, so both
    /// cover the same span.</summary>
    public void Restart()
    {
        _events.Reset();
        Volatile.Write(ref _restart, 1);
    }

    private void Run()
    {
        long highest = 0;
        while (!_stop.IsCancellationRequested)
        {
            if (Interlocked.Exchange(ref _restart, 0) == 1)
            {
                highest = 0;
                Peak = null;
            }

            var rss = StatmResident();
            if (rss > highest)
            {
                highest = rss;
                var breakdown = Read();
                if (Peak is null || breakdown.RssBytes >= Peak.RssBytes)
                {
                    Peak = breakdown;
                }
            }

            _stop.Token.WaitHandle.WaitOne(5);
        }
    }

    private static long StatmResident()
    {
        // "size resident shared text lib data dt" in pages.
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    private Breakdown Read()
    {
        long rss = 0, gc = 0, anonymous = 0, shmem = 0, file = 0;
        ulong start = 0, end = 0;
        var name = "";
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (IsMappingLine(line))
            {
                var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                var range = parts[0].Split('-');
                start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                name = parts.Length > 5 ? parts[5].Trim() : "";
                continue;
            }

            if (!line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                continue;
            }

            var bytes = long.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            rss += bytes;
            if (_gcRange is { } g && start >= g.Start && end <= g.End)
            {
                gc += bytes;
            }
            else if (name.StartsWith("/memfd:", StringComparison.Ordinal) || name.StartsWith("/dev/shm", StringComparison.Ordinal))
            {
                shmem += bytes;
            }
            else if (name.StartsWith('/'))
            {
                file += bytes;
            }
            else
            {
                anonymous += bytes;
            }
        }

        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return new Breakdown(rss, gc, anonymous, shmem, file, GC.GetTotalMemory(forceFullCollection: false), info.TotalCommittedBytes, info.HeapSizeBytes,
            info.FragmentedBytes, info.Index, System.Diagnostics.Process.GetCurrentProcess().Threads.Count, _events.Describe());
    }

    private static bool IsMappingLine(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && !line.AsSpan(0, dash).ContainsAnyExcept(HexDigits);
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The GC reserves one large range of address space up front and commits inside it; the largest
    /// inaccessible anonymous mapping is what is left of it, and the adjacent anonymous mappings are its committed
    /// parts.</summary>
    private static (ulong Start, ulong End)? FindGcRange()
    {
        var maps = new List<(ulong Start, ulong End, string Perms, string Name)>();
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            var range = parts[0].Split('-');
            maps.Add((ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                parts[1], parts.Length > 5 ? parts[5].Trim() : ""));
        }

        var largest = -1;
        for (var i = 0; i < maps.Count; i++)
        {
            if (maps[i].Name.Length == 0 && maps[i].Perms.StartsWith("---", StringComparison.Ordinal)
                && (largest < 0 || maps[i].End - maps[i].Start > maps[largest].End - maps[largest].Start))
            {
                largest = i;
            }
        }

        if (largest < 0)
        {
            return null;
        }

        var first = largest;
        while (first > 0 && maps[first - 1].End == maps[first].Start && maps[first - 1].Name.Length == 0)
        {
            first--;
        }

        var last = largest;
        while (last < maps.Count - 1 && maps[last + 1].Start == maps[last].End && maps[last + 1].Name.Length == 0)
        {
            last++;
        }

        return (maps[first].Start, maps[last].End);
    }

    public static string Describe(Breakdown b)
    {
        static string Mb(long bytes) => (bytes / 1_000_000.0).ToString("F1", CultureInfo.InvariantCulture);
        return $"peak RSS {Mb(b.RssBytes)} MB: GC range {Mb(b.GcRangeRssBytes)}, other anonymous {Mb(b.OtherAnonymousBytes)}, " +
            $"memfd/shm {Mb(b.ShmemBytes)}, files {Mb(b.FileBytes)}; GC heap now {Mb(b.GcHeapBytesNow)}, at GC #{b.GcIndex}: " +
            $"heap {Mb(b.GcHeapAtLastGc)}, committed {Mb(b.GcCommittedAtLastGc)}, fragmented {Mb(b.GcFragmentedAtLastGc)}; {b.Threads} threads\n  {b.Events}";
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
        _events.Dispose();
    }

    /// <summary>The runtime's GC events: generation sizes after each collection and the gen-0 budget it set.</summary>
    private sealed class GcEvents : EventListener
    {
        private readonly Lock _lock = new();
        private readonly long[] _counts = new long[3];
        private string _heapStats = "";
        private string _history = "";
        private long _maxGen0Budget;
        private double _promotedFromGen0;
        private long _gen0Promotions;
        private double _maxGen1;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.Payload is null || e.PayloadNames is null)
            {
                return;
            }

            object? Field(string name)
            {
                var index = e.PayloadNames.IndexOf(name);
                return index >= 0 ? e.Payload[index] : null;
            }

            static string Mb(object? bytes) => bytes is null ? "?" : (Convert.ToDouble(bytes, CultureInfo.InvariantCulture) / 1_000_000).ToString("F1", CultureInfo.InvariantCulture);
            lock (_lock)
            {
                switch (e.EventName)
                {
                    case "GCStart_V2":
                        var depth = Convert.ToInt32(Field("Depth"), CultureInfo.InvariantCulture);
                        _counts[Math.Clamp(depth, 0, 2)]++;
                        break;
                    case "GCHeapStats_V2":
                        var promoted = Convert.ToDouble(Field("TotalPromotedSize0"), CultureInfo.InvariantCulture);
                        if (promoted > 0)
                        {
                            _promotedFromGen0 += promoted;
                            _gen0Promotions++;
                        }

                        _maxGen1 = Math.Max(_maxGen1, Convert.ToDouble(Field("GenerationSize1"), CultureInfo.InvariantCulture));
                        _heapStats = $"after last GC: gen0 {Mb(Field("GenerationSize0"))}, gen1 {Mb(Field("GenerationSize1"))}, gen2 {Mb(Field("GenerationSize2"))}, " +
                            $"LOH {Mb(Field("GenerationSize3"))}, POH {Mb(Field("GenerationSize4"))}, promoted {Mb(Field("TotalPromotedSize0"))}/{Mb(Field("TotalPromotedSize1"))}/{Mb(Field("TotalPromotedSize2"))}";
                        break;
                    case "GCGlobalHeapHistory_V4":
                    case "GCGlobalHeapHistory_V3":
                    case "GCGlobalHeapHistory_V2":
                        var budget = Convert.ToInt64(Field("FinalYoungestDesired"), CultureInfo.InvariantCulture);
                        _maxGen0Budget = Math.Max(_maxGen0Budget, budget);
                        _history = $"gen0 budget {Mb(budget)} (max {Mb(_maxGen0Budget)}), heaps {Field("NumHeaps")}";
                        break;
                }
            }
        }

        public void Reset()
        {
            lock (_lock)
            {
                Array.Clear(_counts);
                _maxGen0Budget = 0;
                _promotedFromGen0 = 0;
                _gen0Promotions = 0;
                _maxGen1 = 0;
            }
        }

        public string Describe()
        {
            lock (_lock)
            {
                var mean = _gen0Promotions == 0 ? 0 : _promotedFromGen0 / _gen0Promotions / 1_000_000;
                return $"GCs gen0/1/2 {_counts[0]}/{_counts[1]}/{_counts[2]}, mean promoted from gen0 {mean:F1} MB, largest gen1 {_maxGen1 / 1_000_000:F1} MB; {_heapStats}; {_history}";
            }
        }
    }
}
