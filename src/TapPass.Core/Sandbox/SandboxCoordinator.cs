namespace TapPass.Sandbox;

/// <summary>
/// The process's sandbox state: the layers applied so far and the combined report. Enforces "only tighten" and
/// "never claim what is not enforced". <see cref="TapPassSandbox"/> holds the one instance bound to the real kernel.
/// </summary>
internal sealed class SandboxCoordinator
{
    private readonly ISandboxKernel _kernel;
    private readonly Lock _gate = new();
    private readonly List<Layer> _layers = [];
    private SandboxReport? _current;

    internal SandboxCoordinator(ISandboxKernel kernel) => _kernel = kernel;

    /// <summary>The combined report of every layer, or <see langword="null"/> before the first call.</summary>
    internal SandboxReport? Current => Volatile.Read(ref _current);

    /// <summary>See <see cref="TapPassSandbox.Secure(SandboxOptions)"/>.</summary>
    internal SandboxReport Secure(SandboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var profile = SandboxProfiles.From(options.Tier);

        lock (_gate)
        {
            if (_layers.Count > 0 && profile > _layers[^1].Profile)
            {
                throw new InvalidOperationException(
                    $"The sandbox can only be tightened: '{profile.Name()}' is looser than the '{_layers[^1].Profile.Name()}' profile already in force, and a Landlock restriction cannot be lifted.");
            }

            var layer = Apply(options, profile);
            _layers.Add(layer);
            var report = Combine(_layers);
            Volatile.Write(ref _current, report);
            return report;
        }
    }

    private Layer Apply(SandboxOptions options, SandboxProfile profile)
    {
        if (profile == SandboxProfile.Full)
        {
            return new Layer(
                profile,
                Enforced: false,
                Abi: 0,
                RestrictedThreads: 0,
                Rules: ["no rule: the full tier is audit only"],
                NotEnforced: ["nothing is restricted by the kernel (full tier: audit only)"],
                Notes: []);
        }

        var (abi, unsupported) = _kernel.Probe(profile);
        if (unsupported is not null)
        {
            if (!options.BestEffort)
            {
                throw new PlatformNotSupportedException(unsupported + " Set SandboxOptions.BestEffort to continue without (part of) the sandbox.");
            }

            if (abi < 1)
            {
                return new Layer(profile, Enforced: false, Abi: 0, RestrictedThreads: 0, Rules: [], NotEnforced: ["nothing is enforced: " + unsupported], Notes: []);
            }
        }

        var result = _kernel.Enforce(options, abi);
        return new Layer(profile, Enforced: true, abi, result.RestrictedThreads, result.Rules, result.NotEnforced, result.Notes);
    }

    private static SandboxReport Combine(List<Layer> layers)
    {
        var last = layers[^1];
        var enforced = layers.Where(l => l.Enforced).ToList();
        IReadOnlyList<string> rules;
        if (enforced.Count <= 1)
        {
            rules = enforced.Count == 1 ? enforced[0].Rules : last.Rules;
        }
        else
        {
            var combined = new List<string> { $"{enforced.Count} layers are in force: the effective access is their intersection" };
            for (var i = 0; i < enforced.Count; i++)
            {
                var prefix = $"layer {i + 1} ({enforced[i].Profile.Name()}): ";
                combined.AddRange(enforced[i].Rules.Select(r => prefix + r));
            }

            rules = combined;
        }

        // Layers only tighten, so the latest enforced layer's gaps are the gaps of the intersection.
        var latestEnforced = enforced.Count > 0 ? enforced[^1] : last;
        return new SandboxReport(
            last.Profile.ToTier(),
            last.Profile.Name(),
            enforced.Count > 0,
            layers.Max(l => l.Abi),
            enforced.Count,
            latestEnforced.RestrictedThreads,
            rules,
            latestEnforced.NotEnforced,
            last.Notes);
    }

    private sealed record Layer(
        SandboxProfile Profile,
        bool Enforced,
        int Abi,
        int RestrictedThreads,
        IReadOnlyList<string> Rules,
        IReadOnlyList<string> NotEnforced,
        IReadOnlyList<string> Notes);
}
