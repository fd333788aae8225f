using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Http;

/// <summary>A request-side failure decided by the gateway itself (before the engine saw the call).</summary>
internal sealed record GatewayError(int StatusCode, ErrorBody Error)
{
    public static GatewayError InvalidRequest(string message, string? param = null) =>
        new(StatusCodes.Status400BadRequest, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = message, Param = param });

    public static GatewayError TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, new ErrorBody
        {
            Type = ErrorTypes.InvalidRequest,
            Message = string.Create(CultureInfo.InvariantCulture, $"Request body exceeds the limit of {limit} bytes."),
        });

    public static GatewayError Unauthorized() =>
        new(StatusCodes.Status401Unauthorized, new ErrorBody
        {
            Type = ErrorTypes.Unauthorized,
            Message = "Missing or invalid API key. Send 'Authorization: Bearer tp_...' or 'x-api-key: tp_...'.",
        });

    public static GatewayError NotFound(string message) =>
        new(StatusCodes.Status404NotFound, new ErrorBody { Type = ErrorTypes.NotFound, Message = message });
}

/// <summary>Reading requests and writing answers in the PROTOCOL.md shapes.</summary>
internal static class GatewayHttp
{
    /// <summary>Longest accepted value of a TapPass request header.</summary>
    public const int MaxHeaderLength = 4096;

    private const int MaxIdempotencyKeyLength = 255;
    private const int MaxIdLength = 200;

    /// <summary>Reads the API key: <c>Authorization: Bearer</c>, <c>x-api-key</c>, or (HTML pages) Basic with the key as password.</summary>
    public static string? ReadApiKey(HttpRequest request, bool allowBasic = false)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length is > 0 and <= MaxHeaderLength)
        {
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var token = authorization[7..].Trim();
                return token.Length > 0 ? token : null;
            }

            if (allowBasic && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                    var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                    var password = colon >= 0 ? decoded[(colon + 1)..] : decoded;
                    return password.Length > 0 ? password : null;
                }
                catch (FormatException)
                {
                    return null;
                }
            }
        }

        var apiKey = request.Headers["x-api-key"].ToString().Trim();
        return apiKey.Length is > 0 and <= MaxHeaderLength ? apiKey : null;
    }

    /// <summary>Reads the PROTOCOL.md §2 headers (aliases included) into a call, validating their sizes.</summary>
    public static TapPassCall ReadCall(HttpRequest request, out GatewayError? error, bool allowBasic = false)
    {
        error = null;
        var flags = First(request, TapPassHeaders.Flags, TapPassHeaders.FlagsAlias);
        var session = First(request, TapPassHeaders.SessionId, TapPassHeaders.SessionIdAlias, TapPassHeaders.SessionIdAlias2);
        var agentUuid = First(request, TapPassHeaders.AgentUuid);
        var taskId = First(request, TapPassHeaders.TaskId);
        var resume = First(request, TapPassHeaders.ResumeToken);
        var sandbox = First(request, TapPassHeaders.SandboxTier);
        var idempotencyKey = First(request, TapPassHeaders.IdempotencyKey);
        var traceParent = First(request, "traceparent");
        var traceState = First(request, "tracestate");

        foreach (var (name, value) in new[]
        {
            (TapPassHeaders.Flags, flags), (TapPassHeaders.SessionId, session), (TapPassHeaders.AgentUuid, agentUuid),
            (TapPassHeaders.TaskId, taskId), (TapPassHeaders.ResumeToken, resume), (TapPassHeaders.SandboxTier, sandbox),
            ("traceparent", traceParent), ("tracestate", traceState),
        })
        {
            if (value is { Length: > MaxHeaderLength })
            {
                error = GatewayError.InvalidRequest($"Header {name} is too long.", name);
                break;
            }
        }

        if (error is null && idempotencyKey is not null && !IsValidIdempotencyKey(idempotencyKey))
        {
            error = GatewayError.InvalidRequest("Idempotency-Key must be 1-255 printable ASCII characters.", TapPassHeaders.IdempotencyKey);
        }

        return new TapPassCall
        {
            ApiKey = ReadApiKey(request, allowBasic),
            Flags = flags,
            SessionId = session,
            AgentUuid = agentUuid,
            TaskId = taskId,
            ResumeToken = resume,
            SandboxTier = sandbox,
            IdempotencyKey = idempotencyKey,
            TraceParent = traceParent,
            TraceState = traceState,
        };
    }

    /// <summary>True for ids the gateway accepts in a path (the engine decides whether they exist).</summary>
    public static bool IsPlausibleId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads and parses a JSON body, never holding more than <paramref name="limit"/> bytes: 413 when larger, 400
    /// <c>invalid_request</c> (with <c>param</c> where the parser knows it) when malformed. An empty body yields
    /// <paramref name="emptyValue"/> when given, otherwise 400.
    /// </summary>
    public static async Task<(T? Value, GatewayError? Error)> ReadJsonAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo, long limit, Func<T>? emptyValue = null)
        where T : class
    {
        var request = context.Request;
        if (request.ContentLength is { } declared && declared > limit)
        {
            return (null, GatewayError.TooLarge(limit));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == rented.Length)
                {
                    if (rented.Length > limit)
                    {
                        return (null, GatewayError.TooLarge(limit));
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)rented.Length * 2, limit + 1));
                    rented.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                }

                var read = await request.Body.ReadAsync(rented.AsMemory(length), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return (null, GatewayError.TooLarge(limit));
                }
            }

            if (length == 0 || IsWhitespace(rented.AsSpan(0, length)))
            {
                return emptyValue is not null
                    ? (emptyValue(), null)
                    : (null, GatewayError.InvalidRequest("Request body is empty; a JSON object is required."));
            }

            try
            {
                var value = JsonSerializer.Deserialize(rented.AsSpan(0, length), typeInfo);
                return value is null
                    ? (null, GatewayError.InvalidRequest("Request body must be a JSON object."))
                    : (value, null);
            }
            catch (JsonException ex)
            {
                var param = ToParam(ex.Path);
                var message = param is null
                    ? "Request body is not valid JSON."
                    : $"Invalid value for '{param}'.";
                return (null, GatewayError.InvalidRequest(message, param));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes a reply: the PROTOCOL.md §2 response headers, then the value (2xx) or the error envelope.</summary>
    public static Task WriteReplyAsync<T>(HttpContext context, TapPassReply<T> reply, JsonTypeInfo<T> typeInfo, TimeProvider timeProvider)
        where T : class
    {
        ApplyHeaders(context.Response, reply.Headers);
        if (reply.Error is not null || reply.Value is null)
        {
            var status = reply.StatusCode is >= 400 and <= 599 ? reply.StatusCode : StatusCodes.Status502BadGateway;
            var error = reply.Error ?? new ErrorBody { Type = ErrorTypes.Unavailable, Message = "The governance engine returned no answer." };
            return WriteErrorAsync(context, status, error, reply.Headers.RetryAfter, timeProvider);
        }

        context.Response.StatusCode = reply.StatusCode;
        return WriteJsonAsync(context, reply.Value, typeInfo);
    }

    /// <summary>Writes the PROTOCOL.md §4 envelope (with <c>Retry-After</c> for break-glass or when given).</summary>
    public static Task WriteErrorAsync(HttpContext context, int statusCode, ErrorBody error, TimeSpan? retryAfter, TimeProvider timeProvider)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        var retry = retryAfter;
        if (retry is null && error.Type == ErrorTypes.BreakGlassActive)
        {
            retry = error.ExpiresAt is { } expires ? expires - timeProvider.GetUtcNow() : TimeSpan.FromSeconds(60);
        }

        if (retry is { } r && (statusCode == StatusCodes.Status503ServiceUnavailable || statusCode == StatusCodes.Status429TooManyRequests))
        {
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(r.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        if (statusCode == StatusCodes.Status401Unauthorized && !response.Headers.ContainsKey("WWW-Authenticate"))
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"TapPass\"";
        }

        return WriteJsonAsync(context, new ErrorEnvelope { Error = error }, TapPassJsonContext.Default.ErrorEnvelope);
    }

    /// <summary>Writes a gateway-decided error.</summary>
    public static Task WriteErrorAsync(HttpContext context, GatewayError error, TimeProvider timeProvider) =>
        WriteErrorAsync(context, error.StatusCode, error.Error, null, timeProvider);

    /// <summary>Writes a JSON body (serialised straight into the response's pipe, no intermediate buffer copy).</summary>
    public static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.BodyWriter, value, typeInfo, context.RequestAborted);
    }

    /// <summary>Sets the four PROTOCOL.md §2 response headers that are known.</summary>
    public static void ApplyHeaders(HttpResponse response, TapPassReplyHeaders headers)
    {
        Set(response, TapPassHeaders.SessionId, headers.SessionId);
        Set(response, TapPassHeaders.AgentUuid, headers.AgentUuid);
        Set(response, TapPassHeaders.Classification, headers.Classification);
        Set(response, TapPassHeaders.PipelineId, headers.PipelineId);
        if (headers.RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }

    private static void Set(HttpResponse response, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value) && value.Length <= MaxHeaderLength && IsHeaderSafe(value))
        {
            response.Headers[name] = value;
        }
    }

    private static bool IsHeaderSafe(string value)
    {
        foreach (var c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                return false;
            }
        }

        return true;
    }

    private static string? First(HttpRequest request, params string[] names)
    {
        foreach (var name in names)
        {
            if (request.Headers.TryGetValue(name, out StringValues values) && values.Count > 0)
            {
                var value = values.ToString().Trim();
                if (value.Length > 0)
                {
                    return value;
                }
            }
        }

        return null;
    }

    private static bool IsValidIdempotencyKey(string key)
    {
        if (key.Length is 0 or > MaxIdempotencyKeyLength)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is < (char)0x21 or > (char)0x7E)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsWhitespace(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>$.messages[0].content</c> → <c>messages[0].content</c>; the root → null.</summary>
    internal static string? ToParam(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return null;
        }

        var param = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return param.Length is 0 or > 256 ? null : param;
    }
}
