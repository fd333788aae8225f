using Microsoft.AspNetCore.Builder;

namespace TapPass.AspNetCore.Tests.Builder;

public sealed class TapPassApplicationBuilderExtensionsTests
{
    [Fact]
    public async Task UseTapPass_WithoutAddTapPass_ThrowsAnActionableMessage()
    {
        var builder = TestHost.CreateBuilder();
        await using var app = builder.Build();

        var act = () => app.UseTapPass();

        act.Should().Throw<InvalidOperationException>().Which.Message.Should()
            .Contain("builder.Services.AddTapPass()").And.Contain("app.UseTapPass()");
    }

    [Fact]
    public async Task UseTapPass_ConfigureCallbackOverridesTheConfiguredDefault()
    {
        await using var host = await TestHost.StartAsync(
            app => app.MapGet("/s", () => TapPassSession.Current!.AutoOpened.ToString()),
            middleware: m => m.AutoOpenSession = false,
            options: o => o.AutoOpenSession = true);

        (await host.Client.GetStringAsync("/s")).Should().Be("False");
    }
}
