using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Audit;

namespace TapPass.Governance.Tests.Audit;

public sealed class AuditCanonicalJsonTests
{
    private static string Canonical(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Encoding.UTF8.GetString(AuditCanonicalJson.Canonicalize(doc.RootElement));
    }

    [Fact]
    public void Canonicalize_SortsKeysAtEveryDepthAndDropsWhitespace()
    {
        Canonical("""{ "b": 1, "a": { "z": [ 3, {"y": true, "x": null} ], "c": "s" } }""")
            .Should().Be("""{"a":{"c":"s","z":[3,{"x":null,"y":true}]},"b":1}""");
    }

    [Fact]
    public void HashInput_AddsSeqAndPrevHashInSortedPosition()
    {
        using var doc = JsonDocument.Parse("""{"timestamp":"t","event_type":"e","reason":"r"}""");

        Encoding.UTF8.GetString(AuditCanonicalJson.HashInput(doc.RootElement, 5, "ab"))
            .Should().Be("""{"event_type":"e","prev_hash":"ab","reason":"r","seq":5,"timestamp":"t"}""");
    }

    [Fact]
    public void HashInput_EventCarryingSeq_IsRejected()
    {
        using var doc = JsonDocument.Parse("""{"seq":1}""");

        FluentActions.Invoking(() => AuditCanonicalJson.HashInput(doc.RootElement, 1, "x")).Should().Throw<JsonException>();
    }

    [Fact]
    public void Canonicalize_IsIndependentOfKeyOrderAndIdempotent()
    {
        Prop.ForAll(
            Gen.ListOf(Gen.Zip(ArbMap.Default.GeneratorFor<NonEmptyString>(), ArbMap.Default.GeneratorFor<int>())).ToArbitrary(),
            pairs =>
            {
                var distinct = pairs.GroupBy(p => p.Item1.Get).Select(g => (Key: g.Key, Value: g.First().Item2)).ToList();
                var forward = new JsonObject();
                var backward = new JsonObject();
                foreach (var (k, v) in distinct)
                {
                    forward[k] = v;
                }

                foreach (var (k, v) in Enumerable.Reverse(distinct))
                {
                    backward[k] = v;
                }

                var a = Canonical(forward.ToJsonString());
                var b = Canonical(backward.ToJsonString());
                return a == b && Canonical(a) == a;
            }).QuickCheckThrowOnFailure();
    }
}
