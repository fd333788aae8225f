using System.Collections.Concurrent;

namespace TapPass.AspNetCore.Tests.Fakes;

/// <summary>An HTTP handler that records requests (with their bodies) and answers through <see cref="Respond"/>.</summary>
internal sealed class FakeHttpMessageHandler : HttpMessageHandler
{
    public ConcurrentQueue<(HttpRequestMessage Request, string? Body)> Requests { get; } = new();

    public Func<HttpRequestMessage, HttpResponseMessage> Respond { get; set; } = static _ => new HttpResponseMessage(System.Net.HttpStatusCode.OK);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue((request, body));
        return Respond(request);
    }
}
