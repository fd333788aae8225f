using System.ComponentModel;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.AI;

namespace TapPass.Core.Tests.Tools;

/// <summary>The definition hash: stable, sensitive to every part of the definition, and the same as the gateway's.</summary>
public sealed class TapPassToolDefinitionTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse(
        "{\"type\":\"object\",\"properties\":{\"to\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"}},\"required\":[\"to\",\"subject\"]}").RootElement;

    [Description("Sends an email.")]
    private static Task<bool> SendEmailAsync(string to, string subject) => Task.FromResult(true);

    private static Task<bool> SendEmailOtherDescriptionAsync(string to, string subject) => Task.FromResult(true);

    [Fact]
    public void Hash_IsStableAcrossCallsAndKeyOrder()
    {
        var reordered = JsonDocument.Parse(
            "{ \"required\": [\"to\", \"subject\"], \"properties\": { \"subject\": {\"type\": \"string\"}, \"to\": {\"type\": \"string\"} }, \"type\": \"object\" }").RootElement;

        var first = TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", Schema);

        first.Should().MatchRegex("^[0-9a-f]{64}$");
        TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", Schema).Should().Be(first);
        TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", reordered).Should().Be(first);
    }

    [Fact]
    public void Hash_ChangesWithTheDescriptionTheNameAndTheSchema()
    {
        var baseline = TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", Schema);
        var widened = JsonDocument.Parse(
            "{\"type\":\"object\",\"properties\":{\"to\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"},\"bcc\":{\"type\":\"string\"}},\"required\":[\"to\",\"subject\"]}").RootElement;

        TapPassToolDefinition.ComputeSha256("send_email", "Sends an email to anyone.", Schema).Should().NotBe(baseline);
        TapPassToolDefinition.ComputeSha256("send_email", null, Schema).Should().NotBe(baseline);
        TapPassToolDefinition.ComputeSha256("send_mail", "Sends an email.", Schema).Should().NotBe(baseline);
        TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", widened).Should().NotBe(baseline);
    }

    [Fact]
    public void Hash_OfAKnownDefinition_MatchesTheGatewayAlgorithm()
    {
        // Canonical bytes written out by hand: sorted keys at every depth, no white space.
        const string canonical = "{\"description\":\"Sends an email.\",\"name\":\"send_email\",\"parameters\":{\"properties\":{\"subject\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"}},\"required\":[\"to\",\"subject\"],\"type\":\"object\"}}";

        TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", Schema)
            .Should().Be(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical))));
    }

    [Fact]
    public void Hash_AgreesWithTheGatewayOracle_ForArbitraryDefinitions()
    {
        var strings = ArbMap.Default.GeneratorFor<string>().Where(s => s is not null && !s.Any(char.IsSurrogate));
        var gen =
            from name in strings
            from description in Gen.OneOf(Gen.Constant<string?>(null), strings.Select(s => (string?)s))
            from count in Gen.Choose(0, 5)
            from keys in Gen.ListOf(strings, count)
            from values in Gen.ListOf(ArbMap.Default.GeneratorFor<int>(), 5)
            select (name, description, keys, values);

        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var properties = new JsonObject();
            var i = 0;
            foreach (var key in t.keys.Distinct(StringComparer.Ordinal))
            {
                properties[key] = new JsonObject { ["type"] = "integer", ["default"] = t.values[i++ % 5], ["description"] = key + "\u00e9<>\"" };
            }

            var schema = JsonDocument.Parse(new JsonObject { ["type"] = "object", ["properties"] = properties }.ToJsonString()).RootElement;
            return TapPassToolDefinition.ComputeSha256(t.name, t.description, schema) == GatewayOracle(t.name, t.description, schema);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void GovernedDelegate_AndGovernedAIFunctionOfTheSameMethod_PinTheSameDefinition()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());

        var fromDelegate = agent.Govern<Func<string, string, Task<bool>>>(SendEmailAsync).GetToolDefinition()!;
        var fromFunction = agent.Govern(AIFunctionFactory.Create(SendEmailAsync, "send_email", "Sends an email.")).Definition;

        fromDelegate.Name.Should().Be("send_email");
        fromDelegate.Description.Should().Be("Sends an email.");
        fromDelegate.ParametersSchema.GetRawText().Should().Be(fromFunction.ParametersSchema.GetRawText());
        fromDelegate.DefinitionSha256.Should().Be(fromFunction.DefinitionSha256);
    }

    [Fact]
    public void GovernedDelegate_DefinitionChangesWithItsDescription()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());

        var described = agent.Govern<Func<string, string, Task<bool>>>(SendEmailAsync).GetToolDefinition()!;
        var plain = agent.Govern<Func<string, string, Task<bool>>>(SendEmailOtherDescriptionAsync, new TapPassToolOptions { Name = "send_email" }).GetToolDefinition()!;
        var redescribed = agent.Govern<Func<string, string, Task<bool>>>(SendEmailAsync, new TapPassToolOptions { Description = "Sends mail to customers." }).GetToolDefinition()!;

        plain.DefinitionSha256.Should().NotBe(described.DefinitionSha256);
        redescribed.DefinitionSha256.Should().NotBe(described.DefinitionSha256);
        agent.Govern<Func<string, string, Task<bool>>>(SendEmailAsync).GetToolDefinition()!.DefinitionSha256.Should().Be(described.DefinitionSha256);
    }

    [Fact]
    public void ToToolDefinition_OffersTheSameDefinitionToTheModel()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());
        var definition = agent.Govern<Func<string, string, Task<bool>>>(SendEmailAsync).GetToolDefinition()!;

        var tool = definition.ToToolDefinition();

        TapPassToolDefinition.ComputeSha256(tool.Function.Name, tool.Function.Description, tool.Function.Parameters).Should().Be(definition.DefinitionSha256);
    }

    [Theory]
    [InlineData("send_email", true)]
    [InlineData("files.read:v2/beta-1", true)]
    [InlineData("", false)]
    [InlineData("send email", false)]
    [InlineData("naïve", false)]
    [InlineData("x\n", false)]
    public void IsValidName_AcceptsTheGatewaysAlphabetOnly(string name, bool valid) =>
        TapPassToolDefinition.IsValidName(name).Should().Be(valid);

    [Fact]
    public void IsValidName_BoundsTheLength()
    {
        TapPassToolDefinition.IsValidName(new string('a', 128)).Should().BeTrue();
        TapPassToolDefinition.IsValidName(new string('a', 129)).Should().BeFalse();
    }

    /// <summary>The gateway's algorithm (Governance Digests.ToolDefinition + CanonicalJson), reimplemented independently.</summary>
    private static string GatewayOracle(string name, string? description, JsonElement parameters)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (description is not null)
            {
                w.WriteString("description", description);
            }

            w.WriteString("name", name);
            w.WritePropertyName("parameters");
            parameters.WriteTo(w);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        using var canonical = new MemoryStream();
        using (var writer = new Utf8JsonWriter(canonical, new JsonWriterOptions { Indented = false }))
        {
            Write(writer, doc.RootElement);
        }

        return Convert.ToHexStringLower(SHA256.HashData(canonical.ToArray()));

        static void Write(Utf8JsonWriter writer, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var p in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                    {
                        writer.WritePropertyName(p.Name);
                        Write(writer, p.Value);
                    }

                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in element.EnumerateArray())
                    {
                        Write(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }
    }
}
