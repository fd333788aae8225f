namespace TapPass.Governance.Providers;

/// <summary>
/// Chooses the provider for a model: a provider other than the default that lists the model serves it; otherwise
/// the default provider (<c>local</c> unless configured) serves every model name.
/// </summary>
internal sealed class ProviderRouter
{
    private readonly IModelProvider[] _providers;
    private readonly IModelProvider _default;

    public ProviderRouter(IEnumerable<IModelProvider> providers, string defaultProvider = LocalModelProvider.ProviderName)
    {
        ArgumentNullException.ThrowIfNull(providers);
        _providers = providers.ToArray();
        _default = _providers.FirstOrDefault(p => string.Equals(p.Name, defaultProvider, StringComparison.OrdinalIgnoreCase))
                   ?? throw new InvalidOperationException($"The default model provider '{defaultProvider}' is not registered.");
    }

    public IModelProvider Default => _default;

    public IModelProvider Resolve(string model)
    {
        foreach (var p in _providers)
        {
            if (!ReferenceEquals(p, _default) && p.Models.Contains(model, StringComparer.OrdinalIgnoreCase))
            {
                return p;
            }
        }

        return _default;
    }

    /// <summary>Every routed model with its provider, for <c>GET /v1/models</c>.</summary>
    public IReadOnlyList<(string Model, string Provider)> ListModels()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<(string, string)>();
        foreach (var p in _providers.Where(p => !ReferenceEquals(p, _default)).Append(_default))
        {
            foreach (var m in p.Models)
            {
                if (seen.Add(m))
                {
                    result.Add((m, p.Name));
                }
            }
        }

        return result;
    }
}
