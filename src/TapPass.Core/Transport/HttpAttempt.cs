using TapPass.Protocol;

namespace TapPass.Transport;

/// <summary>
/// The result of one HTTP attempt: a status and headers, then either a fully read body (bounded), a parsed error
/// envelope, or, for an accepted stream, the live response whose body has not been read yet.
/// </summary>
internal sealed class HttpAttempt
{
    private HttpAttempt(int statusCode, TapPassReplyHeaders headers)
    {
        StatusCode = statusCode;
        Headers = headers;
    }

    public int StatusCode { get; }

    public TapPassReplyHeaders Headers { get; }

    /// <summary>The body of a 2xx answer; null when it exceeded the bound.</summary>
    public byte[]? Body { get; private init; }

    /// <summary>The error of a non-2xx answer (or of a 2xx answer the transport cannot use).</summary>
    public ErrorBody? Error { get; private init; }

    /// <summary>An accepted stream; the caller owns it.</summary>
    public HttpResponseMessage? LiveResponse { get; private init; }

    public static HttpAttempt Success(int statusCode, TapPassReplyHeaders headers, byte[]? body) =>
        new(statusCode, headers) { Body = body };

    public static HttpAttempt Failure(int statusCode, TapPassReplyHeaders headers, ErrorBody error) =>
        new(statusCode, headers) { Error = error };

    public static HttpAttempt Stream(int statusCode, TapPassReplyHeaders headers, HttpResponseMessage response) =>
        new(statusCode, headers) { LiveResponse = response };
}
