using System.Collections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Gateway.Tests.EndToEnd;
using TapPass.Governance;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Server;
using TapPass.Server.Cli;

namespace TapPass.Gateway.Tests.Server;

public sealed class ServerCompositionTests
{
    [Fact]
    public void Environment_TapPassVariables_MapToTheServerAndEngineSections()
    {
        var builder = new ConfigurationBuilder();
        ServerComposition.AddTapPassEnvironment(builder, new Hashtable
        {
            ["TAPPASS_AUDIT__PATH"] = "/data/audit.db",
            ["TAPPASS_PROVIDER__KIND"] = "openai",
            ["TAPPASS_PROVIDER__MODELS__gpt-4o-mini"] = "llama3.1:8b",
            ["TAPPASS_GATEWAY__KEYS__0__KEYSHA256"] = new string('a', 64),
            ["TAPPASS_GATEWAY__KEYS__0__AGENTID"] = "bot",
            ["TAPPASS_GATEWAY__DEFAULTFLAGS"] = "pii=mask",
            ["TAPPASS_GATEWAY__ORGLOCKS__acme"] = "secrets=block",
            ["PATH"] = "/usr/bin",
        });
        var configuration = builder.Build();

        var server = configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>()!;
        var engine = configuration.GetSection(TapPassEngineOptions.SectionName).Get<TapPassEngineOptions>()!;

        server.Audit.Path.Should().Be("/data/audit.db");
        server.Provider.Kind.Should().Be("openai");
        server.Provider.Models.Should().Contain("gpt-4o-mini", "llama3.1:8b");
        engine.Keys.Should().ContainSingle().Which.AgentId.Should().Be("bot");
        engine.DefaultFlags.Should().Be("pii=mask");
        engine.OrgLocks.Should().Contain("acme", "secrets=block");
        configuration.AsEnumerable().Should().NotContain(kv => kv.Key.Contains("PATH", StringComparison.Ordinal) && kv.Value == "/usr/bin");
    }

    [Theory]
    [InlineData("magic", null, null, "Kind")]
    [InlineData("openai", "ftp://x", "k", "BaseUrl")]
    [InlineData("openai", null, null, "ApiKey")]
    public void Validate_RejectsBadProviderSettings(string kind, string? baseUrl, string? apiKey, string mention)
    {
        var options = new ServerOptions { Provider = new ProviderOptions { Kind = kind, BaseUrl = baseUrl, ApiKey = apiKey } };

        ServerComposition.Validate(options).Should().Contain(mention);
    }

    [Fact]
    public void Validate_AcceptsTheDefaultsAndALocalOpenAiCompatibleServer()
    {
        ServerComposition.Validate(new ServerOptions()).Should().BeNull();
        ServerComposition.Validate(new ServerOptions { Provider = new ProviderOptions { Kind = "openai", BaseUrl = "http://localhost:11434/v1" } }).Should().BeNull();
        ServerComposition.Validate(new ServerOptions { Audit = new AuditOptions { Path = " " } }).Should().Contain("Audit:Path");
    }

    [Theory]
    [InlineData("full", true)]
    [InlineData("normal", true)]
    [InlineData("FULL", false)]
    [InlineData("off", false)]
    [InlineData("", false)]
    public void Validate_AuditDurability_IsFullOrNormal(string durability, bool valid)
    {
        new ServerOptions().Audit.Durability.Should().Be("full", "durable commits are the default");

        var failure = ServerComposition.Validate(new ServerOptions { Audit = new AuditOptions { Durability = durability } });

        if (valid)
        {
            failure.Should().BeNull();
        }
        else
        {
            failure.Should().Contain("Audit:Durability");
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:9620", "http://127.0.0.1:9620")]
    [InlineData("http://0.0.0.0:8080;https://0.0.0.0:8443", "http://localhost:8080")]
    [InlineData("http://*:5000", "http://localhost:5000")]
    [InlineData("http://+:80", "http://localhost")]
    [InlineData("https://[::]:443", "https://localhost")]
    [InlineData("http://[::1]:9620", "http://[::1]:9620")]
    [InlineData(" https://tappass.example.com ", "https://tappass.example.com")]
    [InlineData("unix:/tmp/tappass.sock", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void PublicUrlFromListenUrls_UsesTheFirstAddressWithWildcardsAsLocalhost(string? urls, string? expected)
    {
        ServerComposition.PublicUrlFromListenUrls(urls).Should().Be(expected);
    }

    [Fact]
    public void DefaultPublicBaseUrl_DoesNotOverrideAConfiguredOne()
    {
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TapPass:Gateway:PublicBaseUrl"] = "https://gw.example.com",
            ["urls"] = "http://0.0.0.0:9000",
        }).Build();
        var listenOnly = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:9000" }).Build();
        var a = new TapPassEngineOptions { PublicBaseUrl = "https://gw.example.com" };
        var b = new TapPassEngineOptions();

        ServerComposition.ApplyDefaultPublicBaseUrl(a, configured);
        ServerComposition.ApplyDefaultPublicBaseUrl(b, listenOnly);

        a.PublicBaseUrl.Should().Be("https://gw.example.com");
        b.PublicBaseUrl.Should().Be("http://localhost:9000");
    }

    [Fact]
    public async Task Keygen_PrintsAWellFormedKeyAndItsHash()
    {
        using var output = new StringWriter();

        (await KeygenCommand.RunAsync(output)).Should().Be(0);

        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
        var key = lines.Single(l => l.StartsWith("key:", StringComparison.Ordinal))["key:".Length..].Trim();
        var hash = lines.Single(l => l.StartsWith("key_sha256:", StringComparison.Ordinal))["key_sha256:".Length..].Trim();
        ApiKeyFormat.IsWellFormed(key).Should().BeTrue();
        hash.Should().Be(ApiKeyFormat.Hash(key));
    }

    [Fact]
    public async Task Main_UnknownVerb_ReturnsUsageError()
    {
        (await Program.Main(["frobnicate"])).Should().Be(2);
        (await Program.Main(["help"])).Should().Be(0);
    }

    [Fact]
    public async Task Start_WithoutADetectionLayer_FailsWithAnActionableMessage()
    {
        var directory = Directory.CreateTempSubdirectory("tappass-start-");
        try
        {
            await using var app = Build(directory.FullName, services => services.RemoveAll<ITextInspector>());

            var act = () => ServerComposition.MapEndpoints(app);

            act.Should().Throw<InvalidOperationException>().WithMessage("*detection layer*");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_WithAMalformedConfiguredKey_FailsNamingTheSetting()
    {
        var directory = Directory.CreateTempSubdirectory("tappass-start-");
        try
        {
            await using var app = Build(directory.FullName, static _ => { }, new Dictionary<string, string?>
            {
                ["TapPass:Gateway:Keys:0:Key"] = "tp_not-a-real-key",
                ["TapPass:Gateway:Keys:0:AgentId"] = "bot",
            });

            var act = () => ServerComposition.MapEndpoints(app);

            act.Should().Throw<OptionsValidationException>().WithMessage("*Keys:0:Key*").And.Message.Should().NotContain("tp_not-a-real-key");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_WithAnUnusableAuditDatabase_FailsWithAnExceptionServeReports()
    {
        var directory = Directory.CreateTempSubdirectory("tappass-start-");
        try
        {
            var blocker = Path.Combine(directory.FullName, "not-a-directory");
            await File.WriteAllTextAsync(blocker, "x");
            await using var app = Build(directory.FullName, static _ => { }, new Dictionary<string, string?>
            {
                ["TapPass:Audit:Path"] = Path.Combine(blocker, "audit.db"),
            });

            var act = () => ServerComposition.MapEndpoints(app);

            act.Should().Throw<IOException>("serve reports it as 'cannot start' instead of crashing");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static WebApplication Build(string directory, Action<IServiceCollection> configureServices, Dictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["TapPass:Audit:Path"] = Path.Combine(directory, "audit.db") });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        ServerComposition.Configure(builder);
        configureServices(builder.Services);
        return builder.Build();
    }
}
