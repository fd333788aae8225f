using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.AspNetCore.Sessions;

/// <summary>Opens and closes the sessions the middleware opens automatically (PROTOCOL.md §9).</summary>
internal interface ITapPassSessionLifecycle
{
    /// <summary><c>POST /v1/sessions</c>. Throws the mapped <see cref="TapPassException"/> when the gateway refuses.</summary>
    Task<SessionResponse> OpenAsync(string? agentUuid, string? taskId, CancellationToken cancellationToken);

    /// <summary><c>DELETE /v1/sessions/{id}</c>. Throws when the gateway refuses or cannot be reached.</summary>
    Task CloseAsync(string sessionId, string? agentUuid, CancellationToken cancellationToken);
}

/// <summary>
/// Session calls through the registered <see cref="ITapPassTransport"/> (embedded gateway, or any transport the
/// application registers); without one, over the <c>TapPass</c> named <see cref="HttpClient"/> pointed at
/// <see cref="TapPassOptions.Url"/>. Every call is bounded by <see cref="TapPassOptions.Timeout"/>.
/// </summary>
internal sealed class TapPassSessionLifecycle : ITapPassSessionLifecycle
{
    private const int MaxBodyBytes = 64 * 1024;
    private readonly IServiceProvider _services;
    private readonly TapPassOptions _options;
    private readonly TimeProvider _timeProvider;
    private ITapPassTransport? _transport;
    private int _transportResolved;

    public TapPassSessionLifecycle(IServiceProvider services, IOptions<TapPassOptions> options, TimeProvider timeProvider)
    {
        _services = services;
        _options = options.Value;
        _timeProvider = timeProvider;
    }

    private ITapPassTransport? Transport
    {
        get
        {
            if (Volatile.Read(ref _transportResolved) == 0)
            {
                _transport = _services.GetService<ITapPassTransport>();
                Volatile.Write(ref _transportResolved, 1);
            }

            return _transport;
        }
    }

    public async Task<SessionResponse> OpenAsync(string? agentUuid, string? taskId, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var call = CreateCall(agentUuid, taskId);
        try
        {
            if (Transport is { } transport)
            {
                var reply = await transport.OpenSessionAsync(call, new SessionCreateRequest(), timeout.Token).ConfigureAwait(false);
                return reply.IsSuccess ? reply.Value! : throw ToException(reply.StatusCode, reply.Error, reply.Headers.RetryAfter);
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/sessions")
            {
                Content = JsonContent(new SessionCreateRequest()),
            };
            Stamp(request, call);
            return await SendAsync(request, static body => JsonSerializer.Deserialize(body, TapPassJsonContext.Default.SessionResponse), timeout.Token).ConfigureAwait(false)
                   ?? throw new TapPassException("The gateway answered POST /v1/sessions without a session.");
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TapPassConnectionException("Opening a TapPass session timed out.", _options.Url, ex);
        }
    }

    public async Task CloseAsync(string sessionId, string? agentUuid, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var call = CreateCall(agentUuid, taskId: null) with { SessionId = sessionId };
        try
        {
            if (Transport is { } transport)
            {
                var reply = await transport.CloseSessionAsync(call, sessionId, timeout.Token).ConfigureAwait(false);
                if (!reply.IsSuccess && reply.StatusCode != (int)HttpStatusCode.NotFound)
                {
                    throw ToException(reply.StatusCode, reply.Error, reply.Headers.RetryAfter);
                }

                return;
            }

            using var request = new HttpRequestMessage(HttpMethod.Delete, "v1/sessions/" + Uri.EscapeDataString(sessionId));
            Stamp(request, call);
            await SendAsync<SessionResponse>(request, static _ => null, timeout.Token, notFoundIsSuccess: true).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TapPassConnectionException("Closing a TapPass session timed out.", _options.Url, ex);
        }
    }

    private TapPassCall CreateCall(string? agentUuid, string? taskId) => new()
    {
        ApiKey = _options.ApiKey,
        AgentUuid = agentUuid ?? _options.AgentUuid,
        TaskId = taskId,
        TraceParent = System.Diagnostics.Activity.Current?.Id,
    };

    private static void Stamp(HttpRequestMessage request, TapPassCall call)
    {
        if (call.ApiKey is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (call.AgentUuid is { } agent)
        {
            request.Headers.TryAddWithoutValidation(TapPassHeaders.AgentUuid, agent);
        }

        if (call.SessionId is { } session)
        {
            request.Headers.TryAddWithoutValidation(TapPassHeaders.SessionId, session);
        }

        if (call.TaskId is { } task)
        {
            request.Headers.TryAddWithoutValidation(TapPassHeaders.TaskId, task);
        }

        if (call.TraceParent is { } traceParent)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        }
    }

    private static ByteArrayContent JsonContent(SessionCreateRequest body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, TapPassJsonContext.Default.SessionCreateRequest));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private async Task<T?> SendAsync<T>(HttpRequestMessage request, Func<byte[], T?> parse, CancellationToken cancellationToken, bool notFoundIsSuccess = false)
        where T : class
    {
        var client = _services.GetRequiredService<IHttpClientFactory>().CreateClient(TapPassOptions.HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new TapPassConnectionException("The TapPass gateway could not be reached.", _options.Url, ex);
        }

        using (response)
        {
            var body = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode || (notFoundIsSuccess && response.StatusCode == HttpStatusCode.NotFound))
            {
                try
                {
                    return parse(body);
                }
                catch (JsonException ex)
                {
                    throw new TapPassException("The TapPass gateway answered with malformed JSON.", ex) { StatusCode = status };
                }
            }

            ErrorBody? error = null;
            try
            {
                error = body.Length == 0 ? null : JsonSerializer.Deserialize(body, TapPassJsonContext.Default.ErrorEnvelope)?.Error;
            }
            catch (JsonException)
            {
                // Not a TapPass envelope (a proxy's error page): mapped by status below.
            }

            throw ToException(status, error, response.Headers.RetryAfter?.Delta);
        }
    }

    private Exception ToException(int status, ErrorBody? error, TimeSpan? retryAfter)
    {
        if (error is not null && !string.IsNullOrEmpty(error.Type))
        {
            return TapPassException.FromError(status, error, retryAfter, _options.Url);
        }

        return status is 502 or 503 or 504
            ? new TapPassConnectionException($"The TapPass gateway answered {status}.", _options.Url)
            : new TapPassException($"The TapPass gateway answered {status}.") { StatusCode = status };
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxBodyBytes)
        {
            throw new TapPassException($"The TapPass gateway answered with more than {MaxBodyBytes} bytes.");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new TapPassException($"The TapPass gateway answered with more than {MaxBodyBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
