using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using TapPass.Gateway.Diagnostics;
using TapPass.Gateway.Http;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Endpoints;

/// <summary><c>POST /v1/chat/completions</c>, JSON and SSE (PROTOCOL.md §3).</summary>
internal static class ChatEndpoints
{
    public const string Route = "/v1/chat/completions";

    private const int MaxMessages = 4096;
    private const int MaxTools = 256;
    private const int MaxModelLength = 256;

    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "developer", "user", "assistant", "tool" };
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task HandleAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var (request, error) = await GatewayHttp.ReadJsonAsync(context, TapPassJsonContext.Default.ChatCompletionRequest, services.Options.MaxRequestBodyBytes);
        error ??= request is null ? GatewayError.InvalidRequest("Request body is required.") : Validate(request);
        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        if (request!.Stream == true)
        {
            await StreamAsync(context, services, call, request);
            return;
        }

        var reply = await services.Transport.ChatAsync(call, request, context.RequestAborted);
        Record(services, reply.Error, reply.StatusCode);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ChatCompletionResponse, services.TimeProvider);
    }

    internal static GatewayError? Validate(ChatCompletionRequest request)
    {
        if (request.Messages is null || request.Messages.Count == 0)
        {
            return GatewayError.InvalidRequest("'messages' must contain at least one message.", "messages");
        }

        if (request.Messages.Count > MaxMessages)
        {
            return GatewayError.InvalidRequest($"'messages' may contain at most {MaxMessages} messages.", "messages");
        }

        for (var i = 0; i < request.Messages.Count; i++)
        {
            var message = request.Messages[i];
            if (message is null)
            {
                return GatewayError.InvalidRequest("A message must be an object.", $"messages[{i}]");
            }

            if (!Roles.Contains(message.Role))
            {
                return GatewayError.InvalidRequest("Message role must be system, developer, user, assistant or tool.", $"messages[{i}].role");
            }

            if (message.Role == "tool" && string.IsNullOrEmpty(message.ToolCallId))
            {
                return GatewayError.InvalidRequest("A tool message needs 'tool_call_id'.", $"messages[{i}].tool_call_id");
            }
        }

        if (request.Model is { Length: > MaxModelLength })
        {
            return GatewayError.InvalidRequest("'model' is too long.", "model");
        }

        if (request.Tools is { Count: > MaxTools })
        {
            return GatewayError.InvalidRequest($"'tools' may contain at most {MaxTools} tools.", "tools");
        }

        if (request.Tools is not null)
        {
            for (var i = 0; i < request.Tools.Count; i++)
            {
                if (request.Tools[i] is null || string.IsNullOrEmpty(request.Tools[i].Function?.Name))
                {
                    return GatewayError.InvalidRequest("A tool needs a function name.", $"tools[{i}].function.name");
                }
            }
        }

        if (request.Temperature is < 0 or > 2)
        {
            return GatewayError.InvalidRequest("'temperature' must be between 0 and 2.", "temperature");
        }

        if (request.MaxTokens is < 1 || request.MaxCompletionTokens is < 1)
        {
            return GatewayError.InvalidRequest("Token limits must be positive.", request.MaxTokens is < 1 ? "max_tokens" : "max_completion_tokens");
        }

        return null;
    }

    private static async Task StreamAsync(HttpContext context, GatewayServices services, TapPassCall call, ChatCompletionRequest request)
    {
        await using var reply = await services.Transport.StreamChatAsync(call, request, context.RequestAborted);
        if (reply.Error is not null || reply.Chunks is null)
        {
            // Input-side decisions arrive before the first byte: an ordinary HTTP error, never a stream.
            Record(services, reply.Error, reply.StatusCode);
            GatewayHttp.ApplyHeaders(context.Response, reply.Headers);
            var status = reply.StatusCode is >= 400 and <= 599 ? reply.StatusCode : StatusCodes.Status502BadGateway;
            var error = reply.Error ?? new ErrorBody { Type = ErrorTypes.Unavailable, Message = "The governance engine returned no stream." };
            await GatewayHttp.WriteErrorAsync(context, status, error, reply.Headers.RetryAfter, services.TimeProvider);
            return;
        }

        var response = context.Response;
        GatewayHttp.ApplyHeaders(response, reply.Headers);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(context.RequestAborted);

        var writer = response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        string decision = "allow";
        using var json = new Utf8JsonWriter(writer);
        try
        {
            await using var chunks = reply.Chunks.GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                // Events already available are written together; whatever was written goes out before the gateway
                // waits for the next one, so no event is ever held back (one flush, one send, per burst).
                var next = chunks.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    await writer.FlushAsync(cancellationToken);
                }

                if (!await next)
                {
                    break;
                }

                var chunk = chunks.Current;
                if (chunk.Error is not null)
                {
                    decision = chunk.Error.Type;
                    WriteEvent(writer, json, new ErrorEnvelope { Error = chunk.Error }, TapPassJsonContext.Default.ErrorEnvelope);
                    break;
                }

                WriteEvent(writer, json, chunk, TapPassJsonContext.Default.ChatCompletionChunk);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // The client went away.
        }
        catch (Exception ex)
        {
            GatewayLog.StreamFailed(services.Logger, Route, ex);
            decision = ErrorTypes.Unavailable;
            var error = new ErrorBody { Type = ErrorTypes.Unavailable, Message = "The stream failed; the answer is incomplete." };
            WriteEvent(writer, json, new ErrorEnvelope { Error = error }, TapPassJsonContext.Default.ErrorEnvelope);
        }

        services.Diagnostics.RecordDecision(Route, decision);
        writer.Write(Done);
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>Writes one <c>data:</c> event, the JSON serialised straight into the response pipe (not flushed).</summary>
    private static void WriteEvent<T>(System.IO.Pipelines.PipeWriter writer, Utf8JsonWriter json, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        writer.Write(DataPrefix);
        json.Reset(writer);
        JsonSerializer.Serialize(json, value, typeInfo);
        json.Flush();
        writer.Write(EventEnd);
    }

    private static void Record(GatewayServices services, ErrorBody? error, int statusCode)
    {
        services.Diagnostics.RecordDecision(Route, error?.Type ?? "allow");
        if (error is not null)
        {
            GatewayLog.Decision(services.Logger, Route, statusCode, error.Type);
        }
    }
}
