namespace Annex.Client.Tests;

/// <summary>One live server shared by a test class; each test makes its own organization.</summary>
public sealed class LiveServerFixture : IDisposable
{
    public LiveServer Server { get; } = new();

    public void Dispose() => Server.Dispose();
}

/// <summary>Collects reports synchronously, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
public sealed class Recorder<T> : IProgress<T>
{
    private readonly List<T> _reports = [];

    public IReadOnlyList<T> Reports
    {
        get
        {
            lock (_reports)
            {
                return [.. _reports];
            }
        }
    }

    public void Report(T value)
    {
        lock (_reports)
        {
            _reports.Add(value);
        }
    }
}
