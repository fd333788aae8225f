using System.Net.ServerSentEvents;
using System.Text.Json;
using TapPass.Protocol;

namespace TapPass.Gateway.Tests.Fakes;

internal static class Wire
{
    public static async Task<ErrorBody> ErrorOf(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        var envelope = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), TapPassJsonContext.Default.ErrorEnvelope);
        envelope.Should().NotBeNull();
        envelope!.Error.Type.Should().NotBeNullOrEmpty();
        return envelope.Error;
    }

    public static async Task<T> Read<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), type)!;

    public static async Task<List<string>> SseData(HttpResponseMessage response)
    {
        var data = new List<string>();
        await using var stream = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            data.Add(item.Data);
        }

        return data;
    }

    public static string Chat(string content, bool stream = false) =>
        JsonSerializer.Serialize(new ChatCompletionRequest
        {
            Model = "gpt-4o-mini",
            Messages = [ChatCompletionMessage.Create("user", content)],
            Stream = stream ? true : null,
        }, TapPassJsonContext.Default.ChatCompletionRequest);
}
