using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TapPass.Transport;

namespace TapPass;

/// <summary>
/// Gateways whose API version has been verified. A successful check is shared by every agent of the process that
/// talks to the same gateway (same base URL, or the same in-process transport), so short-lived agents (one per
/// ASP.NET Core request) do not each call <c>GET /health</c>. Failures are never recorded.
/// </summary>
internal sealed class GatewayVerificationCache
{
    public static GatewayVerificationCache Shared { get; } = new();

    private readonly ConcurrentDictionary<string, bool> _urls = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConditionalWeakTable<ITapPassTransport, object> _transports = new();

    public bool Contains(Uri? baseUrl, ITapPassTransport transport) =>
        baseUrl is not null ? _urls.ContainsKey(baseUrl.AbsoluteUri) : _transports.TryGetValue(transport, out _);

    public void Add(Uri? baseUrl, ITapPassTransport transport)
    {
        if (baseUrl is not null)
        {
            _urls.TryAdd(baseUrl.AbsoluteUri, true);
        }
        else
        {
            _transports.AddOrUpdate(transport, this);
        }
    }
}
