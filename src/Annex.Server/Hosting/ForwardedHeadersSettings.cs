using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Annex.Server.Hosting;

/// <summary>
/// <c>ForwardedHeaders:*</c>: trust <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> (and, when asked,
/// <c>X-Forwarded-Host</c>) from a reverse proxy that terminates TLS, so the server sees the client's scheme and
/// address: the console's session cookie is then Secure and the links the server writes (downloads, media, paging)
/// are https. Off by default; when on, the headers are taken only from the proxies and networks listed here (from a
/// proxy on loopback when both lists are empty), and ignored from anyone else.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    public bool Enabled { get; set; }

    /// <summary>Addresses of trusted proxies, e.g. <c>10.0.0.5</c> or <c>fd00::5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, e.g. <c>10.0.0.0/8</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in front of the server to read back through (entries of X-Forwarded-For, right to left).</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>Also take the host from <c>X-Forwarded-Host</c> (only if the proxy sets it; otherwise the Host header stands).</summary>
    public bool ForwardHost { get; set; }

    /// <summary>What is wrong with these settings, one message per problem.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p.Trim(), out _)))
        {
            problems.Add($"ForwardedHeaders:KnownProxies: \"{proxy}\" is not an IP address.");
        }

        foreach (var network in KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n.Trim(), out _)))
        {
            problems.Add($"ForwardedHeaders:KnownNetworks: \"{network}\" is not a network in CIDR notation (such as 10.0.0.0/8).");
        }

        if (ForwardLimit < 1)
        {
            problems.Add("ForwardedHeaders:ForwardLimit must be at least 1.");
        }

        return problems;
    }

    /// <summary>The middleware's options for these settings.</summary>
    public ForwardedHeadersOptions ToOptions()
    {
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | (ForwardHost ? ForwardedHeaders.XForwardedHost : ForwardedHeaders.None),
            ForwardLimit = ForwardLimit,
        };
        if (KnownProxies.Count > 0 || KnownNetworks.Count > 0)
        {
            // The lists replace the loopback defaults: only what is named is trusted.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy.Trim()));
            }

            foreach (var network in KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network.Trim()));
            }
        }

        return options;
    }

    public sealed class Validator : IValidateOptions<ForwardedHeadersSettings>
    {
        public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options) =>
            options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
