namespace TapPass.Governance.Pipeline;

/// <summary>USD per million tokens.</summary>
/// <param name="InputPerMillion">Prompt tokens.</param>
/// <param name="OutputPerMillion">Completion tokens.</param>
internal readonly record struct ModelPrice(decimal InputPerMillion, decimal OutputPerMillion);

/// <summary>
/// Prices per model: exact name first, then the longest configured name the model starts with
/// (<c>gpt-4o-mini-2024-07-18</c> uses <c>gpt-4o-mini</c>), then the default price.
/// </summary>
internal sealed class PriceTable
{
    private readonly KeyValuePair<string, ModelPrice>[] _byLength;
    private readonly Dictionary<string, ModelPrice> _exact;

    public PriceTable(IReadOnlyDictionary<string, ModelPrice> prices, ModelPrice defaultPrice)
    {
        ArgumentNullException.ThrowIfNull(prices);
        _exact = new Dictionary<string, ModelPrice>(prices, StringComparer.OrdinalIgnoreCase);
        _byLength = [.. prices.OrderByDescending(p => p.Key.Length)];
        Default = defaultPrice;
    }

    public ModelPrice Default { get; }

    public ModelPrice For(string model)
    {
        if (_exact.TryGetValue(model, out var price))
        {
            return price;
        }

        foreach (var (name, p) in _byLength)
        {
            if (model.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                return p;
            }
        }

        return Default;
    }

    public decimal Cost(string model, int promptTokens, int completionTokens)
    {
        var p = For(model);
        return ((promptTokens * p.InputPerMillion) + (completionTokens * p.OutputPerMillion)) / 1_000_000m;
    }
}
