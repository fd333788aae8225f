using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Gateway.Tests.Endpoints;

public sealed class StreamingPropertyTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Stream_AnyDeltas_RoundTripExactlyThroughSseFraming()
    {
        // Arbitrary text (newlines, "data:", "[DONE]", unicode, control characters) must survive the SSE framing.
        // Samples are drawn from an FsCheck generator and run asynchronously against the real endpoint.
        var special = Gen.Elements("\n", "\r\n", "data: [DONE]\n\n", "\u2028", "é", "😀", "\"", "\\", "\0", "[DONE]", "");
        var piece = Gen.OneOf(ArbMap.Default.GeneratorFor<string>().Where(s => s is not null), special);
        var samples = Gen.NonEmptyListOf(piece).Sample(30, 100);

        foreach (var pieces in samples)
        {
            _host.Transport.StreamOverride = () => ToChunks(pieces);
            using var request = _host.Request(HttpMethod.Post, "/v1/chat/completions", Wire.Chat("hi", stream: true));
            using var response = await _host.Client.SendAsync(request);
            var data = await Wire.SseData(response);

            data[^1].Should().Be("[DONE]");
            data.SkipLast(1)
                .Select(d => JsonSerializer.Deserialize(d, TapPassJsonContext.Default.ChatCompletionChunk)!.Choices![0].Delta.Content)
                .Should().Equal(pieces);
        }
    }

    private static async IAsyncEnumerable<ChatCompletionChunk> ToChunks(IEnumerable<string> pieces)
    {
        foreach (var p in pieces)
        {
            await Task.Yield();
            yield return new ChatCompletionChunk { Id = "c", Object = "chat.completion.chunk", Choices = [new ChunkChoice { Delta = new ChatDelta { Content = p } }] };
        }
    }
}
