using System.Collections.Concurrent;

namespace Annex.Formats;

/// <summary>
/// The threads large entries are deflated on, one per core, for the whole process. Each compressor allocates its
/// native state (about 300 KB) with malloc, which serves every thread from an arena of its own and keeps what is
/// freed there for that arena: spread over the thread pool's threads, an export's compressors left a megabyte or two
/// in each of a dozen arenas. On a fixed few threads they reuse the same memory.
/// </summary>
internal sealed class CompressionThreads : TaskScheduler
{
    public static TaskScheduler Scheduler { get; } = new CompressionThreads(Environment.ProcessorCount);

    private readonly BlockingCollection<Task> _tasks = [];

    private CompressionThreads(int threads)
    {
        for (var i = 0; i < threads; i++)
        {
            new Thread(Run) { IsBackground = true, Name = "Annex deflate" }.Start();
        }
    }

    public override int MaximumConcurrencyLevel => Environment.ProcessorCount;

    private void Run()
    {
        foreach (var task in _tasks.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }

    protected override void QueueTask(Task task) => _tasks.Add(task);

    // Never inline: the point is which thread allocates.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _tasks];
}
