namespace Annex.Server.Hosting;

public enum ServerRole
{
    /// <summary>API and export worker in one process (the default).</summary>
    All,

    /// <summary>Only the HTTP API; exports wait for a worker process.</summary>
    Api,

    /// <summary>Only the export worker; the HTTP port serves health checks.</summary>
    Worker,
}

public sealed class ServerOptions
{
    public const string Section = "Server";

    public ServerRole Role { get; set; } = ServerRole.All;

    /// <summary>Load the demo dataset and project at start-up (when not there yet).</summary>
    public bool Demo { get; set; }

    public bool RunsWorker => Role is ServerRole.All or ServerRole.Worker;
}
