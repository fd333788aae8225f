using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace TapPass.Core.Tests.Fakes;

/// <summary>A request the fake gateway received.</summary>
public sealed record RecordedRequest(HttpMethod Method, string Path, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public JsonNode Json => JsonNode.Parse(Body ?? "null") ?? new JsonObject();

    public string LastUserMessage =>
        Json["messages"]?.AsArray().LastOrDefault(m => (string?)m?["role"] == "user")?["content"]?.ToString() ?? "";
}

/// <summary>Answers one request.</summary>
public delegate Task<HttpResponseMessage> Responder(RecordedRequest request, CancellationToken cancellationToken);

/// <summary>
/// A hand-written TapPass gateway speaking PROTOCOL.md as an <see cref="HttpMessageHandler"/>: <c>GET /health</c>,
/// chat answers (JSON or SSE written chunk by chunk) that echo the last user message, every §4 error, and scripted
/// failures (connection refused, hangs, non-JSON errors). Scripted responders are used in order for data-plane
/// requests; then <see cref="Default"/>.
/// </summary>
public sealed class FakeGateway : HttpMessageHandler
{
    public const string Url = "http://gateway.test:9620";
    public const string ApiKey = "tp_SECRETkeyNEVERlogged0123456789abcdefABCDEF";
    public const string AgentUuid = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
    public const string ChatPath = "/v1/chat/completions";

    public const string GovernPath = "/v1/govern";
    public const string ExecutionPath = "/v1/govern/execution";

    private readonly ConcurrentQueue<Responder> _script = new();
    private readonly ConcurrentQueue<Responder> _governScript = new();
    private readonly ConcurrentQueue<Responder> _executionScript = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public FakeGateway()
    {
        Default = Responses.Echo();
    }

    /// <summary>Answers <c>GET /health</c>.</summary>
    public Responder Health { get; set; } = Responses.Health("0.6.0", "1.4.2");

    /// <summary>Answers data-plane requests once the script is exhausted.</summary>
    public Responder Default { get; set; }

    /// <summary>
    /// Answers <c>POST /v1/govern</c> once <see cref="ThenGovern"/>'s script is exhausted; when null, govern requests
    /// go through the general script and <see cref="Default"/>.
    /// </summary>
    public Responder? Govern { get; set; }

    /// <summary>Answers <c>POST /v1/govern/execution</c> once <see cref="ThenExecution"/>'s script is exhausted; when null, as <see cref="Govern"/>.</summary>
    public Responder? Execution { get; set; }

    /// <summary>When true, every request first awaits with the caller's <see cref="SynchronizationContext"/> captured.</summary>
    public bool CaptureContext { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public IReadOnlyList<RecordedRequest> ChatRequests => Requests.Where(r => r.Path.EndsWith(ChatPath, StringComparison.Ordinal)).ToArray();

    public int HealthRequests => Requests.Count(r => r.Path.EndsWith("/health", StringComparison.Ordinal));

    public IReadOnlyList<RecordedRequest> GovernRequests => Requests.Where(r => r.Path == GovernPath).ToArray();

    public IReadOnlyList<RecordedRequest> ExecutionReports => Requests.Where(r => r.Path == ExecutionPath).ToArray();

    /// <summary>Queues responders for the next <c>POST /v1/govern</c> requests.</summary>
    public FakeGateway ThenGovern(params Responder[] responders)
    {
        foreach (var r in responders)
        {
            _governScript.Enqueue(r);
        }

        return this;
    }

    /// <summary>Queues responders for the next <c>POST /v1/govern/execution</c> requests.</summary>
    public FakeGateway ThenExecution(params Responder[] responders)
    {
        foreach (var r in responders)
        {
            _executionScript.Enqueue(r);
        }

        return this;
    }

    /// <summary>Queues responders for the next data-plane requests.</summary>
    public FakeGateway Then(params Responder[] responders)
    {
        foreach (var r in responders)
        {
            _script.Enqueue(r);
        }

        return this;
    }

    public HttpClient CreateClient() => new(this, disposeHandler: false);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (CaptureContext)
        {
            // A plain await: its continuation is posted to the caller's SynchronizationContext, if there is one.
            await Task.Delay(10, CancellationToken.None);
        }

        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(", ", values);
        }

        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers)
            {
                headers[name] = string.Join(", ", values);
            }
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!.AbsolutePath, headers, body);
        _requests.Enqueue(recorded);
        var responder = recorded.Path.EndsWith("/health", StringComparison.Ordinal) ? Health
            : recorded.Path == GovernPath && Route(_governScript, Govern) is { } govern ? govern
            : recorded.Path == ExecutionPath && Route(_executionScript, Execution) is { } execution ? execution
            : _script.TryDequeue(out var scripted) ? scripted : Default;
        return await responder(recorded, cancellationToken);
    }

    private static Responder? Route(ConcurrentQueue<Responder> script, Responder? fallback) =>
        script.TryDequeue(out var scripted) ? scripted : fallback;
}

/// <summary>Responders speaking PROTOCOL.md.</summary>
public static class Responses
{
    private static int s_pipeline;

    public static Responder Health(string? apiVersion, string? version) => (_, _) =>
    {
        var o = new JsonObject { ["status"] = "healthy" };
        if (version is not null)
        {
            o["version"] = version;
        }

        if (apiVersion is not null)
        {
            o["api_version"] = apiVersion;
        }

        return Task.FromResult(JsonMessage(200, o.ToJsonString()));
    };

    /// <summary>The protocol's default answer: echoes the last user message, as JSON or as an SSE stream.</summary>
    public static Responder Echo(Action<JsonObject>? tappass = null, int chunkSize = 4) => (request, _) =>
    {
        if (!request.Path.EndsWith(FakeGateway.ChatPath, StringComparison.Ordinal))
        {
            return Task.FromResult(JsonMessage(404, ErrorJson("not_found", null)));
        }

        var content = "echo: " + request.LastUserMessage;
        var meta = Meta(request);
        tappass?.Invoke(meta);
        if ((bool?)request.Json["stream"] == true)
        {
            var stream = new SseStream();
            var chunks = content.Chunk(chunkSize).Select(c => new string(c)).ToArray();
            stream.Send(ChunkJson("", role: "assistant"));
            foreach (var c in chunks)
            {
                stream.Send(ChunkJson(c));
            }

            stream.Send(FinalChunkJson(meta, finishReason: "stop"));
            stream.Done();
            stream.Complete();
            return Task.FromResult(SseMessage(stream, meta));
        }

        return Task.FromResult(JsonMessage(200, CompletionJson(content, meta), meta));
    };

    /// <summary>A fixed JSON answer with <paramref name="content"/>.</summary>
    public static Responder Answer(string content, Action<JsonObject>? tappass = null, Action<JsonObject>? completion = null) => (request, _) =>
    {
        var meta = Meta(request);
        tappass?.Invoke(meta);
        var json = JsonNode.Parse(CompletionJson(content, meta))!.AsObject();
        completion?.Invoke(json);
        return Task.FromResult(JsonMessage(200, json.ToJsonString(), meta));
    };

    public static Responder Stream(SseStream stream) => (request, _) => Task.FromResult(SseMessage(stream, Meta(request)));

    /// <summary>A §4 error envelope with every field of its type and the five correlation ids.</summary>
    public static Responder Error(int status, string type, TimeSpan? retryAfter = null, Action<JsonObject>? extra = null) => (_, _) =>
    {
        var message = JsonMessage(status, ErrorJson(type, extra));
        if (retryAfter is { } ra)
        {
            message.Headers.RetryAfter = new RetryConditionHeaderValue(ra);
        }

        return Task.FromResult(message);
    };

    /// <summary>
    /// A 200 <c>/v1/govern</c> decision with the protocol's fields: <c>allow</c> and <c>modify</c> carry a capability
    /// token, <c>block</c> a rule and reason, <c>needs_approval</c> an approval; every decision the correlation ids.
    /// </summary>
    public static Responder Decision(string outcome, Action<JsonObject>? extra = null) => (request, _) =>
    {
        var o = new JsonObject
        {
            ["outcome"] = outcome,
            ["pipeline_uuid"] = "pl_tool" + Interlocked.Increment(ref s_pipeline).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
            ["decided_at"] = "2025-06-01T12:00:00+00:00",
            ["classification"] = "INTERNAL",
            ["session_id"] = request.Header("X-TapPass-Session-Id") ?? "ses_tool1",
            ["task_id"] = request.Header("X-TapPass-Task-Id") ?? "tsk_tool1",
            ["agent_uuid"] = request.Header("X-TapPass-Agent-Uuid") ?? FakeGateway.AgentUuid,
            ["audit_url"] = FakeGateway.Url + "/audit/sessions/ses_tool1",
        };
        switch (outcome)
        {
            case "allow":
                o["capability_token"] = "eyJhbGciOiJFUzI1NiJ9.cap.sig";
                break;
            case "modify":
                o["capability_token"] = "eyJhbGciOiJFUzI1NiJ9.cap.sig";
                o["blocked_by"] = "email_rules";
                o["reason"] = "email=mirror: recipient replaced";
                break;
            case "block":
                o["blocked_by"] = "tool_permissions";
                o["reason"] = "tools=denylist:send_email";
                o["classification"] = "CONFIDENTIAL";
                break;
            case "needs_approval":
                o["blocked_by"] = "require_approval";
                o["reason"] = "delete_* tools need approval";
                o["approval"] = new JsonObject
                {
                    ["approval_id"] = "apr_tool1",
                    ["approval_url"] = FakeGateway.Url + "/approvals/apr_tool1",
                    ["resume_token"] = "rt_tool_abc",
                    ["expires_at"] = "2025-06-01T13:00:00+00:00",
                    ["status"] = "pending",
                    ["rule"] = "require_approval",
                };
                break;
        }

        extra?.Invoke(o);
        return Task.FromResult(JsonMessage(200, o.ToJsonString()));
    };

    /// <summary>A 200 <c>/v1/govern/execution</c> answer.</summary>
    public static Responder ExecutionRecorded() => (_, _) =>
        Task.FromResult(JsonMessage(200, "{\"recorded\":true,\"event_id\":\"ae_" + Interlocked.Increment(ref s_pipeline).ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"}"));

    public static Responder Text(int status, string mediaType, string body) => (_, _) =>
        Task.FromResult(new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });

    public static Responder Refused() => (_, _) =>
        throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (gateway.test:9620)", new SocketException((int)SocketError.ConnectionRefused));

    /// <summary>Never answers until cancelled (fake time drives the timeouts).</summary>
    public static Responder Hang() => async (_, ct) =>
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        throw new InvalidOperationException("unreachable");
    };

    /// <summary>Waits for <paramref name="gate"/>, then answers with <paramref name="next"/>.</summary>
    public static Responder Gated(Task gate, Responder next) => async (request, ct) =>
    {
        await gate.WaitAsync(ct);
        return await next(request, ct);
    };

    public static JsonObject Meta(RecordedRequest request) => new()
    {
        ["classification"] = "INTERNAL",
        ["blocked"] = false,
        ["flags"] = FlagsObject(request.Header("X-TapPass-Flags")),
        ["session_id"] = request.Header("X-TapPass-Session-Id") ?? "ses_" + Guid.NewGuid().ToString("N")[..12],
        ["task_id"] = request.Header("X-TapPass-Task-Id") ?? "tsk_fake1",
        ["agent_uuid"] = request.Header("X-TapPass-Agent-Uuid") ?? FakeGateway.AgentUuid,
        ["pipeline_uuid"] = "pl_" + Interlocked.Increment(ref s_pipeline).ToString("D6", System.Globalization.CultureInfo.InvariantCulture),
        ["turn_index"] = 1,
        ["audit_url"] = FakeGateway.Url + "/audit/sessions/ses_fake",
        ["detections"] = new JsonArray(new JsonObject
        {
            ["step"] = "detect_pii", ["type"] = "EMAIL", ["phase"] = "input", ["start"] = 10, ["length"] = 17, ["action"] = "mask", ["score"] = 1.0,
        }),
        ["redactions"] = new JsonArray(),
        ["steps"] = new JsonArray(new JsonObject { ["name"] = "detect_pii", ["outcome"] = "mask", ["duration_us"] = 41 }),
        ["cost"] = new JsonObject { ["prompt_tokens"] = 12, ["completion_tokens"] = 40, ["usd"] = 0.000031 },
        ["injection_score"] = 0.02,
        ["degraded"] = false,
    };

    public static string CompletionJson(string content, JsonObject meta) => new JsonObject
    {
        ["id"] = "chatcmpl-1",
        ["object"] = "chat.completion",
        ["created"] = 1_750_000_000,
        ["model"] = "gpt-4o-mini-2024-07-18",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 12, ["completion_tokens"] = 40, ["total_tokens"] = 52 },
        ["tappass"] = meta.DeepClone(),
    }.ToJsonString();

    public static string ChunkJson(string content, string? role = null)
    {
        var delta = new JsonObject();
        if (role is not null)
        {
            delta["role"] = role;
        }

        delta["content"] = content;
        return new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1_750_000_000,
            ["model"] = "gpt-4o-mini-2024-07-18",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null }),
        }.ToJsonString();
    }

    public static string FinalChunkJson(JsonObject meta, string? finishReason = "stop")
    {
        var o = new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1_750_000_000,
            ["model"] = "gpt-4o-mini-2024-07-18",
            ["choices"] = new JsonArray(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 12, ["completion_tokens"] = 40, ["total_tokens"] = 52 },
            ["tappass"] = meta.DeepClone(),
        };
        if (finishReason is not null)
        {
            o["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = finishReason });
        }

        return o.ToJsonString();
    }

    /// <summary>The §4 envelope for <paramref name="type"/>, as the gateway writes it.</summary>
    public static string ErrorJson(string type, Action<JsonObject>? extra)
    {
        var error = new JsonObject
        {
            ["type"] = type,
            ["message"] = $"Fake gateway: {type}",
            ["session_id"] = "ses_err1",
            ["task_id"] = "tsk_err1",
            ["agent_uuid"] = FakeGateway.AgentUuid,
            ["pipeline_uuid"] = "pl_err1",
            ["audit_url"] = FakeGateway.Url + "/audit/sessions/ses_err1",
        };
        switch (type)
        {
            case "policy_block":
                error["message"] = "Request blocked by detect_pii: PII detected in prompt";
                error["blocked_by"] = "detect_pii";
                error["reason"] = "PII detected in prompt: EMAIL, CREDIT_CARD";
                error["classification"] = "RESTRICTED";
                error["step_details"] = new JsonObject { ["types"] = new JsonArray("EMAIL", "CREDIT_CARD") };
                break;
            case "approval_required":
                error["approval_url"] = FakeGateway.Url + "/approvals/apr_1";
                error["approval_id"] = "apr_1";
                error["resume_token"] = "rt_abc123";
                error["expires_at"] = "2025-06-01T13:00:00+00:00";
                error["reason"] = "RESTRICTED data needs approval";
                error["blocked_by"] = "require_approval";
                error["classification"] = "RESTRICTED";
                break;
            case "trust_tier_denied":
                error["required_tier"] = "full";
                error["actual_tier"] = "worker";
                break;
            case "break_glass_active":
                error["level"] = "halt";
                error["expires_at"] = "2025-06-01T12:30:00+00:00";
                error["reason"] = "incident 42";
                break;
            case "tool_integrity_violation":
                error["tool_name"] = "send_email";
                error["violation"] = "definition_changed";
                break;
            case "invalid_flags":
                error["flag"] = "pii";
                error["value"] = "shred";
                error["allowed"] = new JsonArray("mask", "block", "flag", "off");
                break;
            case "invalid_request":
                error["param"] = "messages";
                break;
            case "upstream_error":
                error["provider"] = "openai";
                break;
        }

        extra?.Invoke(error);
        return new JsonObject { ["error"] = error }.ToJsonString();
    }

    public static HttpResponseMessage JsonMessage(int status, string json, JsonObject? meta = null)
    {
        var message = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        AddTapPassHeaders(message, meta);
        return message;
    }

    public static HttpResponseMessage SseMessage(SseStream stream, JsonObject? meta)
    {
        var content = new StreamContent(stream);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        var message = new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        AddTapPassHeaders(message, meta);
        return message;
    }

    private static void AddTapPassHeaders(HttpResponseMessage message, JsonObject? meta)
    {
        if (meta is null)
        {
            return;
        }

        message.Headers.TryAddWithoutValidation("X-TapPass-Session-Id", (string?)meta["session_id"]);
        message.Headers.TryAddWithoutValidation("X-TapPass-Agent-Uuid", (string?)meta["agent_uuid"]);
        message.Headers.TryAddWithoutValidation("X-TapPass-Classification", (string?)meta["classification"]);
        message.Headers.TryAddWithoutValidation("X-TapPass-Pipeline-Id", (string?)meta["pipeline_uuid"]);
    }

    private static JsonObject FlagsObject(string? header)
    {
        var o = new JsonObject();
        foreach (var item in (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                o[item[..eq]] = item[(eq + 1)..];
            }
        }

        return o;
    }
}

/// <summary>
/// A response body the test writes event by event. Reads wait for the next write; <see cref="Fail"/> makes the next
/// read throw (a dropped connection). Records its disposal.
/// </summary>
public sealed class SseStream : Stream
{
    private readonly Channel<byte[]> _channel = Channel.CreateUnbounded<byte[]>();
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _current = [];
    private int _offset;

    public bool IsDisposed => _disposed.Task.IsCompleted;

    public Task Disposed => _disposed.Task;

    private int _readsWaiting;

    /// <summary>Reads currently waiting for data.</summary>
    public int ReadsWaiting => Volatile.Read(ref _readsWaiting);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public SseStream Send(string data) => Raw("data: " + data + "\n\n");

    public SseStream Done() => Raw("data: [DONE]\n\n");

    public SseStream Raw(string text)
    {
        _channel.Writer.TryWrite(Encoding.UTF8.GetBytes(text));
        return this;
    }

    public void Complete() => _channel.Writer.TryComplete();

    public void Fail(Exception exception) => _channel.Writer.TryComplete(exception);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_offset >= _current.Length)
        {
            Interlocked.Increment(ref _readsWaiting);
            try
            {
                if (!await _channel.Reader.WaitToReadAsync(cancellationToken))
                {
                    return 0;
                }
            }
            catch (ChannelClosedException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
            finally
            {
                Interlocked.Decrement(ref _readsWaiting);
            }

            if (!_channel.Reader.TryRead(out var next))
            {
                return 0;
            }

            _current = next;
            _offset = 0;
        }

        var n = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
