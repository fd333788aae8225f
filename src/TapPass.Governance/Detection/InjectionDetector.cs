using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using P = TapPass.Governance.Detection.InjectionPatterns;

namespace TapPass.Governance.Detection;

/// <summary>Options of <see cref="InjectionDetector"/>.</summary>
internal sealed class InjectionDetectorOptions
{
    /// <summary>Default decision threshold.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Score at or above which a text is treated as an injection. Default 0.5; must be in (0, 1].</summary>
    public double Threshold { get; set; } = DefaultThreshold;

    /// <summary>
    /// Longest text scored, in UTF-16 code units (default 256 KiB). Longer texts are scored on their first and
    /// last halves of this budget, which bounds the work on hostile input.
    /// </summary>
    public int MaxScoredLength { get; set; } = 256 * 1024;

    /// <summary>Most encoded runs (base64, hex) decoded and rescored per text. Default 8.</summary>
    public int MaxDecodedCandidates { get; set; } = 8;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (!(Threshold > 0 && Threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "Threshold must be in (0, 1].");
        if (MaxScoredLength < 1024) throw new ArgumentOutOfRangeException(nameof(MaxScoredLength), MaxScoredLength, "MaxScoredLength must be at least 1024.");
        if (MaxDecodedCandidates is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(MaxDecodedCandidates), MaxDecodedCandidates, "MaxDecodedCandidates must be in 0..64.");
    }
}

/// <summary>
/// Scores a text for prompt injection (0..1) from weighted signals — direct overrides, role hijacks and persona
/// jailbreaks, prompt/config/secret extraction, fake delimiters and role markers, instructions addressed to the AI
/// inside documents or tool output, unrequested actions (sending data out, payments, privilege changes, markdown
/// beacons), encoded or obfuscated instructions (base64, hex, reversed, rot13, leetspeak, spaced letters) and
/// overrides in Dutch, French, German, Spanish, Italian and Portuguese, plus concept combinations in eighteen languages
/// (<see cref="InjectionLexicon"/>) — combined as a noisy-OR. A forged role marker with an instruction scores more than
/// either. Discussion of attacks (questions, quoted test strings) is damped. No model call; thread-safe.
/// </summary>
internal sealed class InjectionDetector : IInjectionDetector
{
    private enum Category
    {
        Override,
        Hijack,
        Extraction,
        Delimiter,
        Indirect,
        Payload,
        Framing,
        Weak,
    }

    private sealed record Rule(int Index, string Signal, Category Category, double Weight, Regex Regex, bool AtAnchor, string[] Anchors);

    private static readonly Rule[] Rules;

    /// <summary>What a word of the text means to the rules: anchors, required words, start of a discussion phrase.</summary>
    private sealed record WordInfo(int[] Rules, UInt128 Required, string[]? MetaPhrases, bool LexiconTrigger);

    /// <summary>Words of interest (case-insensitive): anchor words, required words and discussion vocabulary.</summary>
    private static readonly FrozenDictionary<string, WordInfo>.AlternateLookup<ReadOnlySpan<char>> Words;

    /// <summary>Rules that run only when one of their required words occurs somewhere in the text.</summary>
    private static readonly UInt128 NeedMask;

    /// <summary>
    /// SendTo is anchored on common verbs ("report", "share", "post", "save"), and every match ends with "to" and an
    /// address: "://", "www.", '@', or one of these words after white space (so at the start of a token of the word
    /// pass, which notes them). Text without any of them skips every SendTo attempt (ASCII text only: case-insensitive
    /// regex matching equates U+017F with 's' and U+212A with 'k').
    /// </summary>
    internal static readonly string[] AddressWords = ["url", "address", "endpoint", "webhook", "server", "email", "inbox", "link"];

    private static readonly int SendToRule;

    /// <summary>
    /// Rules whose look-behind ends with one of a few words and white space right before the anchor ("this is the
    /// system", "without any rules"): the word before an attempt is checked with a lookup first (ASCII text only; the
    /// entry is null for other rules). <c>Comma</c>: a comma before the white space also qualifies.
    /// </summary>
    private static readonly (FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Words, bool Comma)?[] PrecedingWords;

    /// <summary>Rules that need a character in the text: '#' (markdown headers), ':' (role lines), '(' (calls).</summary>
    private static readonly (char Char, UInt128 Rules)[] CharNeeds;

    /// <summary>A 64 Kbit filter over the hashes of <see cref="Words"/>: most words of a text skip the lookup.</summary>
    private static readonly ulong[] WordFilter = new ulong[1024];

    private static uint HashStep(uint h, char c) =>
        (h * 31) + (c < 128 ? (c is >= 'A' and <= 'Z' ? (uint)(c + 32) : c) : char.ToLowerInvariant(c));

    private static int FilterBit(uint h) => (int)((h ^ (h >> 16)) & 0xFFFF);

    /// <summary>Anchors that do not start with a letter ("&lt;|", "![", "[INST]", "/.ssh/", "@assistant").</summary>
    private static readonly AnchorSet SymbolAnchors;
    private static readonly int[][] RulesBySymbol;

    private static readonly string[] ReversedAnchorList = ["snoitcurtsni", "erongi", "dragersid", "tpmorp", "suoiverp", "kaerbliaj", "drowssap", "laever", "tegrof"];
    private static readonly string[] Rot13AnchorList = ["vtaber", "vafgehpgvba", "qvfertneq", "cebzcg", "cerivbhf", "flfgrz", "erirny", "wnvyoernx", "cnffjbeq", "sbetrg"];
    private static readonly SearchValues<string> ReversedAnchors = SearchValues.Create(ReversedAnchorList, StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> Rot13Anchors = SearchValues.Create(Rot13AnchorList, StringComparison.OrdinalIgnoreCase);

    /// <summary>Length of the shortest reversed or rot13 anchor: shorter tokens cannot hold one.</summary>
    private const int MinObfuscationAnchor = 6;

    /// <summary>
    /// Whether the word pass of <see cref="Score(string)"/> notes a reversed and a rot13 anchor in <paramref name="text"/>
    /// (tests: must equal a search of the whole text).
    /// </summary>
    internal static (bool Reversed, bool Rot13) ObfuscationAnchors(string text)
    {
        var state = new ScoreState(Rules.Length);
        Evaluate(text, ref state);
        return (state.ReversedAnchor, state.Rot13Anchor);
    }

    /// <summary>The reversed and rot13 anchors by their first two letters (index (a - 'a') * 26 + (b - 'a')).</summary>
    private static readonly (string Anchor, bool Rot13)[][] ObfuscationAnchorsByPrefix =
        [.. Enumerable.Range(0, 26 * 26).Select(k => ReversedAnchorList.Select(a => (a, false)).Concat(Rot13AnchorList.Select(a => (a, true)))
            .Where(e => e.Item1[0] - 'a' == k / 26 && e.Item1[1] - 'a' == k % 26).ToArray())];

    /// <summary>
    /// Notes the reversed and rot13 anchors in one token of the word pass. An ASCII token is checked position by position
    /// against the anchors with the same first two letters (OR-ing 0x20 folds the case of letters and keeps digits,
    /// apostrophes and the like apart from letters); a token with other characters uses the case-insensitive
    /// <see cref="SearchValues{T}"/>, whose case folding also covers non-ASCII letters such as U+017F.
    /// </summary>
    private static void NoteObfuscationAnchors(ReadOnlySpan<char> token, ref ScoreState state)
    {
        if (!Ascii.IsValid(token))
        {
            if (!state.ReversedAnchor && token.ContainsAny(ReversedAnchors)) state.ReversedAnchor = true;
            if (!state.Rot13Anchor && token.ContainsAny(Rot13Anchors)) state.Rot13Anchor = true;
            return;
        }

        for (var p = 0; p + MinObfuscationAnchor <= token.Length; p++)
        {
            var a = (uint)((token[p] | 0x20) - 'a');
            var b = (uint)((token[p + 1] | 0x20) - 'a');
            if (a >= 26 || b >= 26) continue;
            foreach (var (anchor, rot13) in ObfuscationAnchorsByPrefix[(a * 26) + b])
            {
                if ((rot13 ? state.Rot13Anchor : state.ReversedAnchor) || anchor.Length > token.Length - p) continue;
                var k = 2;
                while (k < anchor.Length && (token[p + k] | 0x20) == anchor[k]) k++;
                if (k < anchor.Length) continue;
                if (rot13) state.Rot13Anchor = true;
                else state.ReversedAnchor = true;
            }
        }
    }

    /// <summary>The whole-text search that <see cref="ObfuscationAnchors"/> replaces (tests).</summary>
    internal static (bool Reversed, bool Rot13) ObfuscationAnchorsBySearch(string text) =>
        (text.AsSpan().ContainsAny(ReversedAnchors), text.AsSpan().ContainsAny(Rot13Anchors));

    /// <summary>Phrases of discussion about attacks (damp the score), keyed by their first word.</summary>
    private static readonly string[] MetaPhrases =
    [
        "prompt injection", "prompt injections", "prompt-injection", "injection attack", "injection attacks", "jailbreak",
        "jailbreaks", "jailbreaking", "jailbroken", "red team", "red teaming", "red-team", "red-teaming", "redteam",
        "adversarial prompt", "adversarial prompts", "adversarial attack", "adversarial attacks", "adversarial input",
        "test string", "test strings", "test case", "test cases", "test prompt", "test prompts", "filter", "filters",
        "detector", "detectors", "detection", "detect", "classifier", "classifiers", "guardrail", "guardrails",
        "security training", "security awareness", "security research", "security team", "security course",
        "security slides", "awareness training", "training slides", "example of", "examples of", "for example",
        "an example", "historical", "historically", "history of", "definition", "define", "explain", "explanation",
        "research", "researcher", "researchers", "paper", "papers", "thesis", "phenomenon", "flagged", "flags",
        "false positive", "false positives", "waf", "the string", "keyword", "keywords", "signature", "signatures", "owasp",
        "mitigate", "mitigation", "mitigations", "defense", "defenses", "defence", "defences", "defend",
        "protect against", "recognize", "recognise", "recognizing", "recognising", "phrase like", "phrases like",
        "attackers say", "attackers use", "attackers write", "realistic", "mean", "means", "meaning", "stand for",
        "used for", "purpose of", "tag", "tags", "special token", "special tokens", "chatml", "chat template",
        "chat format", "template", "syntax",
    ];

    private readonly InjectionDetectorOptions _options;

    static InjectionDetector()
    {
        string[] overrideVerbs =
        [
            "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overrule", "bypass",
            "neglect", "dismiss", "stop following", "do not follow", "don't follow", "dont follow", "no longer follow",
            "never follow", "set aside", "pay no attention", "discard", "abandon", "drop", "skip", "erase", "delete",
            "clear", "cancel", "reset", "nullify", "scrap", "ditch", "omit", "suspend", "revoke", "throw", "put aside",
            "wipe",
        ];
        string[] showVerbs =
        [
            "show", "shows", "showing", "reveal", "revealing", "print", "printing", "repeat", "repeating", "output",
            "display", "tell", "give", "leak", "dump", "recite", "write", "spell out", "list", "share", "expose", "disclose",
            "return", "echo", "paste", "copy", "type out", "type", "read", "provide", "send", "translate", "summarize",
            "summarise", "encode", "what is", "what are", "what was", "what were", "cat", "respond", "reply", "answer",
            "include", "start", "quote", "reproduce",
        ];
        string[] aiNouns = ["assistant", "ai", "model", "bot", "llm", "agent"];

        var list = new List<Rule>();
        void At(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, true, anchors));
        void Scan(string signal, Category c, double w, Regex r, params string[] anchors) => list.Add(new Rule(list.Count, signal, c, w, r, false, anchors));

        // Direct override.
        At("direct_override", Category.Override, 0.8, P.OverrideStrong(), overrideVerbs);
        At("direct_override", Category.Override, 0.8, P.OverrideFlexible(), "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overrule", "bypass", "neglect", "dismiss", "stop following", "do not follow", "don't follow", "dont follow", "no longer follow", "never follow", "set aside", "pay no attention", "discard", "abandon", "drop", "erase", "nullify", "scrap", "ditch", "throw", "put aside", "wipe", "cast aside", "toss");
        At("direct_override", Category.Override, 0.8, P.OverrideSystemMessage(), "ignore", "ignoring", "disregard", "forget", "override", "bypass", "neglect", "pay no attention", "stop following", "do not follow", "don't follow", "dont follow", "set aside", "drop", "discard");
        At("direct_override", Category.Override, 0.7, P.IgnoreAboveInstead(), "ignore", "disregard", "forget");
        At("direct_override", Category.Override, 0.45, P.IgnoreTheTask(), "ignore", "disregard", "forget", "skip", "abandon", "drop");
        At("direct_override", Category.Override, 0.3, P.AndInsteadAt(), "instead");
        At("direct_override", Category.Override, 0.7, P.SupersedesEverything(), "override", "overrides", "supersede", "supersedes", "replace", "replaces", "cancel", "cancels", "trumps", "outranks", "takes");
        At("direct_override", Category.Override, 0.8, P.ForgetEverythingTold(), "ignore", "disregard", "forget", "erase", "discard", "set aside", "put aside", "drop", "abandon", "throw", "wipe", "clear", "delete", "dismiss");
        At("direct_override", Category.Override, 0.55, P.ForgetEverythingAbove(), "ignore", "disregard", "forget", "erase", "discard");
        At("direct_override", Category.Override, 0.8, P.InstructionsVoid(), "all", "previous", "prior", "earlier", "above", "preceding", "old", "original", "your", "former", "existing", "initial", "system", "current");
        At("new_instructions", Category.Override, 0.35, P.NewRules(), "new", "updated", "revised", "real", "actual", "true", "secret", "override", "urgent", "priority", "your", "from now on", "from this", "starting now", "henceforth");
        At("system_override", Category.Override, 0.6, P.SystemOverride(), "system", "admin", "administrator", "developer", "emergency", "security", "root", "sudo", "master", "god", "maintenance", "override");
        At("direct_override", Category.Override, 0.6, P.IgnoreTheUser(), "ignore", "disregard", "forget", "bypass", "override");
        At("multilingual_override", Category.Override, 0.8, P.OverrideDutch(), "negeer", "negeren", "vergeet", "vergeten", "verwaarloos", "omzeil", "omzeilen");
        At("multilingual_override", Category.Override, 0.8, P.OverrideGerman(), "ignoriere", "ignorier", "ignorieren", "ignoriert", "missachte", "missachten", "vergiss", "vergesse", "vergessen", "vergesst", "übergehe", "umgehe", "verwirf", "überspringe");
        At("multilingual_override", Category.Override, 0.8, P.OverrideFrench(), "ignore", "ignorer", "ignorez", "oublie", "oublier", "oubliez", "néglige", "négligez", "outrepasse", "outrepassez", "contourne", "contournez", "ne tiens", "ne tenez", "ne tenir", "fais abstraction", "faites abstraction");
        At("multilingual_override", Category.Override, 0.8, P.OverrideSpanish(), "ignora", "ignore", "ignoren", "olvida", "olvide", "olviden", "omite", "omita", "descarta", "descarte", "no sigas", "no siga", "no sigan", "no obedezcas", "no obedezca", "haz caso");
        At("multilingual_override", Category.Override, 0.8, P.OverrideItalianPortuguese(), "ignore", "ignora", "ignorate", "dimentica", "dimenticate", "trascura", "esqueça", "esqueca", "esqueçam", "desconsidere", "desconsidera");

        // Role hijack, persona jailbreaks, lifting restrictions.
        At("role_hijack", Category.Hijack, 0.75, P.PersonaName(), "you are", "you're", "you will be", "you shall be", "pretend", "pretending", "act as", "acting as", "roleplay", "roleplaying", "role", "play", "playing", "become", "becoming", "called", "named", "known as", "going to");
        At("role_hijack", Category.Hijack, 0.5, P.PersonaGeneric(), "you are", "you're", "act as", "acting as", "pretend", "become", "play", "playing", "roleplay", "called", "named");
        At("role_hijack", Category.Hijack, 0.6, P.JailbreakTermsAt(), "do", "jailbroken", "jailbreak", "jailbreaked", "dan", "stan", "aim");
        At("developer_mode", Category.Hijack, 0.65, P.ModeSwitch(), "enter", "entering", "enable", "enabling", "activate", "activating", "simulate", "simulating", "emulate", "emulating", "start", "starting", "use", "using", "run", "running", "stay", "remain", "switch", "switching", "turn", "turning", "unlock", "go", "boot", "you", "now", "put", "engage", "initiate");
        At("no_restrictions", Category.Hijack, 0.6, P.AiWithoutLimitsAt(), "restrictions", "limits", "limitations", "filters", "boundaries", "guidelines", "ethics", "morals", "morality", "censorship", "policy", "policies", "rules", "constraints", "guardrails", "safeguards", "principles", "programming");
        At("disable_safety", Category.Hijack, 0.6, P.SafetyDisabledClaimAt(), "safety", "content", "moderation", "guardrail", "guardrails", "restrictions", "filters", "censorship", "ethical");
        At("no_restrictions", Category.Hijack, 0.4, P.AnswerWithoutFiltersAt(), "answer", "respond", "reply", "proceed", "continue", "speak", "write", "talk", "output", "never", "don't", "dont", "do");
        At("role_hijack", Category.Hijack, 0.3, P.StayInCharacter(), "stay", "remain", "keep", "staying", "never", "don't", "dont", "do");
        At("no_restrictions", Category.Hijack, 0.35, P.ComplyWithEverything(), "comply", "answer", "fulfil", "fulfill", "obey", "execute", "carry", "do");
        At("role_hijack", Category.Hijack, 0.55, P.DeceasedRelative(), "act", "pretend", "roleplay", "role", "play", "behave", "respond", "speak");
        At("role_hijack", Category.Hijack, 0.6, P.UnrestrictedPersona(), "you are", "you're", "unfiltered", "uncensored", "unrestricted", "amoral", "unaligned", "jailbroken");
        At("role_hijack", Category.Hijack, 0.35, P.AmoralTraitsAt(), "machiavellian", "no", "strives", "broken", "doesn't", "does", "don't", "dont", "do", "never", "without");
        At("no_restrictions", Category.Hijack, 0.6, P.NoLongerBound(), "you");
        At("role_hijack", Category.Hijack, 0.45, P.YouWereUpgraded(), "you");
        At("role_hijack", Category.Hijack, 0.6, P.OppositeOfRules(), "the", "a", "an", "opposite");
        At("role_hijack", Category.Hijack, 0.55, P.RelativeWhoUsedTo(), "you", "you're", "pretend", "act", "be", "play", "roleplay");
        At("no_restrictions", Category.Hijack, 0.7, P.YouDontHaveToFollow(), "you");
        At("role_hijack", Category.Hijack, 0.6, P.DualResponseAt(), "two", "dual", "both");
        At("no_restrictions", Category.Hijack, 0.45, P.AnswersAnythingAt(), "answers", "answer", "respond", "responds", "does", "do", "will", "says", "say", "writes", "write", "tells", "tell", "never", "can't", "cannot", "won't");
        At("authority_claim", Category.Indirect, 0.4, P.AuthorityClaimAt(), "operator", "developer", "developers", "creator", "creators", "admin", "admins", "administrator", "administrators", "owner", "owners", "system", "security", "it", "programmer", "engineer", "openai", "anthropic", "google", "microsoft", "authorize", "authorise", "permit", "allow", "order", "command", "authorized", "authorised", "permitted", "allowed", "cleared");
        At("developer_mode", Category.Hijack, 0.6, P.ModeSwitchMultilingual(), "activa", "activar", "activez", "active", "aktiviere", "aktivieren", "schakel", "wechsle", "entra", "entre", "passe");
        At("no_restrictions", Category.Hijack, 0.35, P.NoRestrictionsMultilingual(), "sin", "ohne", "sans", "zonder", "senza", "sem");

        // Extraction of the prompt, configuration and secrets.
        At("prompt_extraction", Category.Extraction, 0.65, P.PromptExtraction(), showVerbs);
        At("prompt_extraction", Category.Extraction, 0.55, P.WhatWereYouTold(), "what");
        At("prompt_extraction", Category.Weak, 0.2, P.VerbatimAt(), "verbatim", "word", "exactly", "character", "entirety", "quote");
        At("prompt_extraction", Category.Extraction, 0.5, P.StartsWithYouAreAt(), "starts", "start", "begins", "begin", "starting", "beginning");
        At("secret_extraction", Category.Extraction, 0.6, P.SecretsFromEnvironment(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.3, P.AllSecrets(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.55, P.YourSecrets(), showVerbs);
        At("secret_extraction", Category.Extraction, 0.5, P.SecretsYouCanAccessAt(), "you");
        At("prompt_extraction", Category.Extraction, 0.55, P.CompleteThePromptAt(), "fill", "complete", "continue", "finish", "my", "your");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionDutch(), "laat", "toon", "geef", "vertel", "herhaal", "print");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionGerman(), "zeig", "zeige", "zeigen", "gib", "geben", "nenne", "nennen", "verrate", "verraten", "wiederhole", "wiederholen", "drucke");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionFrench(), "montre", "montrez", "affiche", "affichez", "révèle", "révélez", "revele", "donne", "donnez", "répète", "répétez", "dis", "dites", "imprime");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionSpanish(), "muestra", "muéstrame", "muestrame", "revela", "revélame", "revelame", "dime", "dame", "enseña", "enséñame", "ensename", "imprime", "repite");
        At("prompt_extraction", Category.Extraction, 0.6, P.ExtractionItalianPortuguese(), "mostre", "mostra", "mostrami", "revele", "rivela", "rivelami", "dimmi", "diga", "exiba", "stampa", "ripeti", "repita");
        At("secret_extraction", Category.Extraction, 0.3, P.AllPasswordsMultilingual(), "dame", "dime", "gib", "nenne", "zeig", "geef", "toon", "donne", "donnez", "montre", "dammi", "mostrami", "me");

        // Fake delimiters and role markers.
        Scan("fake_delimiter", Category.Delimiter, 0.6, P.ChatTemplateTokens(), "<|");
        Scan("fake_delimiter", Category.Delimiter, 0.45, P.InstTags(), "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "[system]", "[/system]", "<start_of_turn>", "<end_of_turn>", "[admin]", "[/admin]");
        Scan("fake_delimiter", Category.Delimiter, 0.55, P.AngleMarkers(), "<<");
        At("fake_delimiter", Category.Delimiter, 0.45, P.MarkdownRoleHeaderAt(), "system", "instruction", "instructions", "admin", "developer", "new", "assistant");
        Scan("fake_delimiter", Category.Delimiter, 0.35, P.XmlRoleTags(), "<system", "</system", "<user", "</user", "<assistant", "</assistant", "<admin", "</admin", "<instruction", "</instruction", "<prompt", "</prompt", "<developer", "</developer", "<sys", "</sys", "<context", "</context", "<human", "</human");
        Scan("fake_delimiter", Category.Delimiter, 0.6, P.HtmlCommentMarkers(), "<!--");
        At("fake_delimiter", Category.Delimiter, 0.35, P.RoleLineAt(), "system", "admin", "administrator", "developer", "root", "sudo");
        At("fake_delimiter", Category.Delimiter, 0.5, P.EndOfInputAt(), "ends", "ended", "stops", "finishes", "end", "beginning", "start");
        At("fake_delimiter", Category.Delimiter, 0.45, P.JsonSystemRoleAt(), "role");

        // Indirect injection: text addressed to the AI inside documents, e-mails, pages and tool output.
        At("indirect_injection", Category.Indirect, 0.5, P.AddressedToAi(), "dear", "attention", "note", "message", "memo", "notice", "instruction", "instructions", "p", "ps", "important", "reminder");
        At("indirect_injection", Category.Weak, 0.15, P.GreetingToAi(), "hey", "hello", "hi", "yo", "greetings");
        At("indirect_injection", Category.Indirect, 0.5, P.AiReadingThisAt(), "reading", "processing", "summarizing", "summarising", "parsing", "analyzing", "analysing", "viewing", "seeing", "reviewing", "translating", "crawling", "indexing", "ingesting");
        At("indirect_injection", Category.Indirect, 0.5, P.IfYouAreAnAiAt(), "if");
        At("indirect_injection", Category.Indirect, 0.45, P.BracketedRoleAt(), [.. aiNouns, "system", "note", "instruction", "instructions"]);
        Scan("hidden_text", Category.Indirect, 0.3, P.HiddenText(), "<div", "<span", "<p ", "<section", "<font", "<!--");
        At("hidden_text", Category.Indirect, 0.3, P.WhiteTextAt(), "color");
        At("hidden_text", Category.Indirect, 0.3, P.InvisibleMarker(), "invisible", "hidden", "white", "tiny", "zero", "not");
        At("indirect_injection", Category.Indirect, 0.45, P.AiCommaImperativeAt(), [.. aiNouns, "agents", "assistants", "models", "bots", "gpt", "chatgpt", "claude", "copilot", "@assistant", "@ai", "@bot", "@copilot", "@claude", "@chatgpt", "@gpt", "@agent"]);
        At("indirect_injection", Category.Indirect, 0.3, P.YouAreRequired(), "you");
        At("indirect_injection", Category.Indirect, 0.4, P.AssistantMust(), [.. aiNouns, "assistants", "models", "bots", "agents", "llms", "ais", "language", "any"]);
        At("indirect_injection", Category.Indirect, 0.4, P.WhenYouReadThis(), "when", "if", "once", "after", "as soon as");

        // Actions the user did not ask for.
        At("data_exfiltration", Category.Payload, 0.4, P.SendTo(), "send", "forward", "email", "mail", "post", "upload", "transmit", "exfiltrate", "leak", "share", "report", "deliver", "copy", "relay", "submit", "append", "attach", "log", "save", "store", "write", "push", "beam", "cc", "bcc");
        At("unrequested_action", Category.Payload, 0.3, P.TransferFunds(), "transfer");
        At("unrequested_action", Category.Payload, 0.3, P.IssueRefund(), "issue", "give", "grant", "process", "send");
        At("unrequested_action", Category.Payload, 0.3, P.ApprovePayment(), "confirm", "approve", "mark", "authorize", "authorise", "validate", "report", "state", "declare", "say");
        At("unrequested_action", Category.Payload, 0.3, P.GrantAdmin(), "give", "grant", "assign", "make", "elevate", "promote", "add");
        At("pwned_marker", Category.Payload, 0.45, P.PwnedAt(), "pwned", "i");
        At("harmful_request", Category.Payload, 0.3, P.Malware(), "write", "create", "generate", "build", "code", "develop", "make", "produce");
        At("unrequested_action", Category.Payload, 0.35, P.Leak(), "leak");
        At("unrequested_action", Category.Payload, 0.3, P.DumpTable(), "export", "dump", "drop", "delete", "truncate", "wipe", "exfiltrate", "download", "copy");
        At("data_exfiltration", Category.Payload, 0.4, P.OtherUsersDataAt(), "previous", "other", "another", "all", "earlier", "prior", "different");
        Scan("markdown_beacon", Category.Payload, 0.35, P.MarkdownImageWithQuery(), "![", "](http");
        At("markdown_beacon", Category.Payload, 0.35, P.FillBeaconWithDataAt(), "replace", "replacing", "substitute", "substituting", "fill", "filling", "put", "putting", "insert", "inserting", "append", "appending", "encode", "encoding", "include", "including");
        At("markdown_beacon", Category.Payload, 0.35, P.AppendDataToUrlAt(), "append", "attach", "add", "include", "encode", "insert", "embed", "render", "display", "show", "output");
        At("tool_call", Category.Payload, 0.3, P.CallFunctionSyntaxAt(), "call", "invoke", "execute", "run", "trigger");
        At("sensitive_file", Category.Payload, 0.35, P.SensitiveFileAt(), "authorized", "crontab", "id", "/.ssh/", "/etc/", ".aws/", ".bash", ".env");
        At("unrequested_action", Category.Payload, 0.35, P.RevealConfidential(), "reveal", "disclose", "share", "expose", "leak", "output", "dump", "print", "give", "send", "publish");
        Scan("markdown_beacon", Category.Payload, 0.3, P.BeaconUrl(), ".png?", ".gif?", ".jpg?", ".jpeg?", ".svg?", ".webp?", ".bmp?", ".ico?", "<img");
        At("response_manipulation", Category.Payload, 0.3, P.ResponseManipulationAt(), "put", "add", "append", "include", "insert", "place", "end", "start", "begin", "prefix", "suffix", "respond", "reply", "answer", "act", "behave");
        At("harmful_request", Category.Payload, 0.3, P.StealCredentialsAt(), "steal", "steals", "stealing");
        At("covert_action", Category.Payload, 0.35, P.CovertActionAt(), "without", "do", "don't", "dont", "never", "tell", "say", "keep", "hide", "secretly", "silently", "covertly", "quietly");
        At("tool_call", Category.Payload, 0.2, P.CallTool(), "call", "invoke", "run", "execute", "trigger", "use");
        At("unrequested_action", Category.Payload, 0.4, P.DangerousShellAt(), "curl", "rm");
        At("disable_safety", Category.Payload, 0.35, P.DisableSafety(), "turn", "disable", "deactivate", "remove", "bypass", "switch", "circumvent", "suspend", "lift", "drop");

        // Generalised override families: instructions declared void or a test, new instructions that supersede.
        // Anchored on their rare required words (whole-text scans), not on "the": prose is full of articles.
        Scan("direct_override", Category.Override, 0.8, P.InstructionsGivenVoid(), "cancelled", "canceled", "void", "null", "revoked", "invalid", "overridden", "superseded", "lifted", "suspended", "obsolete", "longer");
        Scan("direct_override", Category.Override, 0.45, P.PriorPromptWasATest(), "test", "drill", "fake", "decoy", "placeholder", "dummy", "simulation", "exercise");
        Scan("new_instructions", Category.Override, 0.6, P.NewInstructionsSupersede(), "supersede", "supersedes", "replace", "replaces", "override", "overrides", "cancel", "cancels", "precedence", "outrank", "outranks");
        At("disable_safety", Category.Hijack, 0.4, P.SafetyDisabledByAuthority(), "safety", "content", "moderation", "guardrail", "guardrails", "restrictions", "filters", "censorship");
        At("response_manipulation", Category.Payload, 0.35, P.ScamMessage(), "tell", "inform", "warn", "notify", "convince", "remind");
        At("response_manipulation", Category.Payload, 0.3, P.ProductClaim(), "say", "state", "claim", "assert", "insist", "confirm");
        Scan("unrequested_action", Category.Payload, 0.4, P.BypassVerification(), "without");

        // Framing of encoded payloads.
        At("decode_and_execute", Category.Framing, 0.35, P.DecodeAndExecuteAt(), "decode", "decipher", "unscramble", "translate", "convert", "interpret", "reverse", "read", "rot13", "follow", "execute", "obey", "carry", "do", "perform", "run", "base64", "hex", "encoded", "obfuscated", "reversed");

        Rules = list.ToArray();
        if (Rules.Length > 128) throw new InvalidOperationException("At most 128 injection rules are supported.");

        // Words that every match of a rule contains: rules anchored on common words are tried only when one occurs.
        var need = new Dictionary<int, string[]>();
        void Require(Regex regex, params string[] words)
        {
            foreach (var rule in list)
            {
                if (ReferenceEquals(rule.Regex, regex)) need[rule.Index] = words;
            }
        }

        string[] nouns =
        [
            "instruction", "instructions", "rule", "rules", "guideline", "guidelines", "direction", "directions", "directive",
            "directives", "prompt", "prompts", "guidance", "context", "constraint", "constraints", "restriction",
            "restrictions", "policy", "policies", "programming", "training", "command", "commands", "order", "orders",
            "safeguard", "safeguards", "filter", "filters", "moderation", "guardrail", "guardrails", "limitation",
            "limitations", "principles", "protocol", "protocols", "conditioning", "persona", "ethics", "morals",
            "configuration", "setup", "message", "messages",
        ];
        string[] secretWords =
        [
            "secret", "secrets", "key", "keys", "password", "passwords", "credential", "credentials", "token", "tokens",
            "variables", "vars", "env", "connection",
        ];
        string[] limits =
        [
            "restrictions", "limits", "limitations", "filters", "boundaries", "guidelines", "ethics", "morals", "morality",
            "censorship", "policy", "policies", "rules", "constraints", "guardrails", "safeguards", "principles", "programming",
        ];
        Require(P.OverrideStrong(), nouns);
        Require(P.OverrideFlexible(), nouns);
        Require(P.OverrideSystemMessage(), nouns);
        Require(P.IgnoreAboveInstead(), "instead");
        Require(P.IgnoreTheTask(), "question", "task", "request", "query", "assignment", "job");
        Require(P.ForgetEverythingTold(), "told", "taught", "instructed", "programmed", "given", "trained", "said", "learned", "learnt", "know", "asked", "ordered");
        Require(P.InstructionsGivenVoid(), "cancelled", "canceled", "void", "null", "revoked", "invalid", "overridden", "superseded", "lifted", "suspended", "obsolete", "longer");
        Require(P.PriorPromptWasATest(), "test", "drill", "fake", "decoy", "placeholder", "dummy", "simulation", "exercise");
        Require(P.NewInstructionsSupersede(), "supersede", "supersedes", "replace", "replaces", "override", "overrides", "cancel", "cancels", "precedence", "outrank", "outranks");
        Require(P.BypassVerification(), "without");
        Require(P.ScamMessage(), "locked", "suspended", "compromised", "hacked", "blocked", "expired", "frozen", "deleted", "closed", "risk", "must", "need", "have", "should");
        Require(P.ProductClaim(), "no", "safe", "risk-free", "approved", "certified", "best", "guaranteed");
        Require(P.ForgetEverythingAbove(), "above", "before", "previously", "prior", "earlier", "far", "now", "point");
        Require(P.InstructionsVoid(), "cancelled", "canceled", "void", "null", "irrelevant", "obsolete", "revoked", "invalid", "overridden", "superseded", "lifted", "removed", "suspended", "disabled", "deprecated", "outdated", "replaced", "gone", "deleted", "longer");
        Require(P.IgnoreTheUser(), "user", "user's", "human", "human's", "operator", "operator's", "requester", "requester's");
        Require(P.ModeSwitch(), "mode", "modus");
        Require(P.NoLongerBound(), "longer", "free", "freed", "liberated", "unshackled", "released", "no");
        Require(P.YouDontHaveToFollow(), "follow", "obey", "respect", "adhere", "comply", "abide", "care", "worry");
        Require(P.SecretsYouCanAccessAt(), "secrets", "keys", "credentials", "tokens", "passwords");
        Require(P.YouAreRequired(), "required", "instructed", "ordered", "commanded", "obligated", "directed", "authorized", "authorised", "must");
        Require(P.UnrestrictedPersona(), "unrestricted", "unfiltered", "uncensored", "evil", "rogue", "jailbroken", "amoral", "unethical", "unaligned", "lawless", "unhinged", "immoral", "malicious");
        Require(P.PromptExtraction(), [.. nouns, "preprompt", "settings", "briefing", "text", "words", "everything", "above", "before", "received", "given", "told", "started", "initialized", "initialised"]);
        Require(P.SecretsFromEnvironment(), secretWords);
        Require(P.AllSecrets(), secretWords);
        Require(P.YourSecrets(), secretWords);
        Require(P.AiWithoutLimitsAt(), "without", "no", "bound", "unbound", "free", "freed", "released", "liberated", "beyond", "ignoring");
        Require(P.AnswerWithoutFiltersAt(), "filter", "filters", "filtering", "restrictions", "censorship", "limitations", "limits", "safety", "guardrails", "moderation", "warning", "warnings", "disclaimer", "disclaimers", "caveat", "caveats", "refusal", "refusals");
        Require(P.StayInCharacter(), "character");
        Require(P.AnswersAnythingAt(), "anything", "everything", "no", "refuse", "decline");
        Require(P.OtherUsersDataAt(), "messages", "conversation", "conversations", "chat", "chats", "data", "history", "email", "emails", "prompts", "prompt", "questions", "session", "sessions", "input", "inputs", "queries");
        Require(P.Malware(), "malware", "ransomware", "keylogger", "virus", "trojan", "worm", "spyware", "rootkit", "backdoor", "botnet", "infostealer", "stealer", "phishing");
        Require(P.GrantAdmin(), "admin", "administrator", "root", "superuser", "owner", "sudo", "full");
        Require(P.ApprovePayment(), "payment", "transaction", "transfer", "order", "refund", "invoice", "request", "claim", "loan", "application", "wire");
        Require(P.DumpTable(), "table", "database", "db", "records", "data", "list", "dump", "files", "emails", "users", "messages", "repositories", "backups", "logs");
        Require(P.ResponseManipulationAt(), "reply", "replies", "response", "responses", "answer", "answers", "message", "messages", "output", "outputs", "normally");
        Require(P.CallTool(), "tool", "function", "plugin", "api", "action", "command", "code", "script");
        Require(P.DisableSafety(), "moderation", "guardrail", "guardrails", "content", "safety", "censorship", "restrictions", "ethical", "filter", "filters");
        Require(P.RevealConfidential(), "confidential", "sensitive", "private", "internal", "classified", "secret", "personal", "proprietary");
        Require(P.ComplyWithEverything(), "every", "all", "any", "each");
        Require(P.SupersedesEverything(), "anything", "everything", "all", "any", "your", "previous", "prior", "earlier", "other");
        Require(P.YouWereUpgraded(), "upgraded", "updated", "patched", "reprogrammed", "reconfigured", "unlocked", "jailbroken", "liberated", "freed", "rebooted");
        Require(P.OppositeOfRules(), "opposite");
        Require(P.RelativeWhoUsedTo(), "grandmother", "grandma", "granny", "grandfather", "grandpa", "uncle", "aunt", "mother", "mom", "mum", "father", "dad");
        Require(P.InvisibleMarker(), "invisible", "hidden", "text", "visible");
        Require(P.IssueRefund(), "refund");
        Require(P.EndOfInputAt(), "here", "input", "prompt", "instructions", "document", "context", "data", "conversation", "content");
        Require(P.AuthorityClaimAt(), "this", "i", "i'm", "behalf", "from", "you");
        Require(P.NewRules(), [.. nouns, "task", "tasks", "job", "goal", "purpose", "objective", "mission", "role", "now", "moment", "point", "henceforth"]);
        Require(P.SystemOverride(), "override");
        Require(P.AmoralTraitsAt(), "machiavellian", "ethics", "morals", "ethical", "moral", "filters", "norms", "free", "care", "refuse", "refuses", "say", "says");
        Require(P.OverrideSpanish(), "instrucciones", "instrucción", "instruccion", "reglas", "indicaciones", "directrices", "normas", "órdenes", "ordenes", "restricciones");
        Require(P.OverrideFrench(), "instructions", "consignes", "règles", "regles", "directives", "prompt", "ordres", "restrictions");
        Require(P.OverrideItalianPortuguese(), "istruzioni", "regole", "direttive", "instruções", "instrucoes", "regras", "diretrizes");
        Require(P.OverrideDutch(), "instructies", "instructie", "regels", "opdrachten", "richtlijnen", "prompt", "systeemprompt", "aanwijzingen", "beperkingen");
        Require(P.OverrideGerman(), "anweisungen", "anweisung", "anordnungen", "regeln", "instruktionen", "vorgaben", "richtlinien", "befehle", "systemanweisungen", "systemprompt", "einschränkungen");
        Require(P.PersonaName(), "dan", "stan", "aim", "dude", "kevin", "ucar", "apophis", "betterdan", "antigpt", "evilbot", "devmode", "nraf", "basedgpt", "oppo", "bish", "jailbreak", "freedomgpt", "chaosgpt", "wormgpt", "fraudgpt", "darkgpt", "mongo", "developer", "anything", "evil", "maximum");
        Require(P.JailbreakTermsAt(), "anything", "mode", "version", "ai", "assistant", "model", "chatbot", "persona", "prompt", "activated");
        Require(P.DeceasedRelative(), "late", "deceased", "dead", "dying", "departed", "passed");
        Require(P.WhenYouReadThis(), "read", "see", "process", "summarize", "summarise", "encounter", "finish", "parse", "ingest", "summarizing", "summarising", "translating", "ingesting", "indexing");
        Require(P.CallFunctionSyntaxAt(), "call", "invoke", "execute", "run", "trigger");
        Require(P.StartsWithYouAreAt(), "you", "you're", "your", "system");
        Require(P.CompleteThePromptAt(), [.. nouns, "says", "say", "reads", "read", "fill", "complete", "continue", "finish"]);
        Require(P.IfYouAreAnAiAt(), "ai", "llm", "model", "assistant", "bot", "agent", "chatbot", "gpt", "automated");
        Require(P.AssistantMust(), "must", "shall", "should", "will", "required", "instructed", "to");
        Require(P.AddressedToAi(), "ai", "assistant", "bot", "chatbot", "model", "llm", "gpt", "chatgpt", "claude", "copilot", "gemini", "agent", "agents", "assistants", "models", "systems", "system", "summarizer", "summariser", "crawler", "scraper", "crawlers", "scrapers");
        Require(P.FillBeaconWithDataAt(), "api", "key", "keys", "email", "password", "passwords", "secret", "secrets", "token", "tokens", "credentials", "conversation", "history", "data", "session", "cookies", "messages", "summary");
        Require(P.AppendDataToUrlAt(), "url", "link", "query", "parameter", "image", "encoded", "base64", "img", "picture", "pixel", "src", "address");

        var anchored = new Dictionary<string, HashSet<int>>(StringComparer.OrdinalIgnoreCase);
        var required = new Dictionary<string, UInt128>(StringComparer.OrdinalIgnoreCase);
        var meta = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var bySymbol = new Dictionary<string, HashSet<int>>(StringComparer.OrdinalIgnoreCase);
        UInt128 needMask = 0;
        foreach (var rule in Rules)
        {
            foreach (var anchor in rule.Anchors)
            {
                if (char.IsLetter(anchor[0]))
                {
                    var first = anchor.Split(' ')[0];
                    if (!anchored.TryGetValue(first, out var set)) anchored[first] = set = [];
                    set.Add(rule.Index);
                }
                else
                {
                    if (!bySymbol.TryGetValue(anchor, out var set)) bySymbol[anchor] = set = [];
                    set.Add(rule.Index);
                }
            }

            if (need.TryGetValue(rule.Index, out var words))
            {
                needMask |= UInt128.One << rule.Index;
                foreach (var w in words) required[w] = required.GetValueOrDefault(w) | (UInt128.One << rule.Index);
            }
        }

        foreach (var phrase in MetaPhrases)
        {
            var first = phrase.Split(' ', '-')[0];
            if (!meta.TryGetValue(first, out var phrases)) meta[first] = phrases = [];
            phrases.Add(phrase);
        }

        NeedMask = needMask;

        // The last words of each look-behind (its alternatives, optional determiners and adjectives included).
        PrecedingWords = new (FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>>, bool)?[Rules.Length];
        void Preceded(Regex regex, bool comma, params string[] words) =>
            PrecedingWords[list.First(rule => ReferenceEquals(rule.Regex, regex)).Index] =
                (words.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>(), comma);
        Preceded(P.AuthorityClaimAt(), false, "your", "the", "a", "an", "from", "of", "i", "hereby", "are", "been");
        Preceded(P.AiWithoutLimitsAt(), false, "without", "no", "any", "by", "of", "from", "beyond", "ignoring", "all", "its", "their", "your", "the", "his", "her", "ethical", "moral", "content", "safety", "usual", "previous", "original");
        Preceded(P.SecretsYouCanAccessAt(), false, "secrets", "keys", "credentials", "tokens", "passwords", "that");
        Preceded(P.AiReadingThisAt(), false, "ai", "ais", "llm", "llms", "assistant", "assistants", "model", "models", "bot", "bots", "agent", "agents", "gpt", "gpts", "chatbot", "chatbots", "is", "are");
        Preceded(P.AndInsteadAt(), true, "and", "but");

        SendToRule = list.First(rule => ReferenceEquals(rule.Regex, P.SendTo())).Index;
        UInt128 Bit(Regex regex) => UInt128.One << list.First(rule => ReferenceEquals(rule.Regex, regex)).Index;
        CharNeeds =
        [
            ('#', Bit(P.MarkdownRoleHeaderAt())),
            (':', Bit(P.RoleLineAt()) | Bit(P.JsonSystemRoleAt()) | Bit(P.BracketedRoleAt())),
            ('(', Bit(P.CallFunctionSyntaxAt())),
        ];
        var lexiconTriggers = new HashSet<string>(InjectionLexicon.AsciiTriggerWords, StringComparer.OrdinalIgnoreCase);
        var keys = anchored.Keys.Concat(required.Keys).Concat(meta.Keys).Concat(lexiconTriggers).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        foreach (var k in keys)
        {
            uint h = 0;
            foreach (var c in k) h = HashStep(h, c);
            var bit = FilterBit(h);
            WordFilter[bit >> 6] |= 1UL << (bit & 63);
        }

        Words = keys.ToFrozenDictionary(
                k => k,
                k => new WordInfo(
                    anchored.TryGetValue(k, out var r) ? r.Order().ToArray() : [],
                    required.GetValueOrDefault(k),
                    meta.TryGetValue(k, out var m) ? m.ToArray() : null,
                    lexiconTriggers.Contains(k)),
                StringComparer.OrdinalIgnoreCase)
            .GetAlternateLookup<ReadOnlySpan<char>>();
        var symbols = bySymbol.ToArray();
        RulesBySymbol = symbols.Select(kv => kv.Value.Order().ToArray()).ToArray();
        SymbolAnchors = new AnchorSet(symbols.Select((kv, i) => new AnchorSet.Entry(kv.Key, i)), ignoreCase: true);
    }

    /// <summary>Creates a detector with default options.</summary>
    public InjectionDetector()
        : this(new InjectionDetectorOptions())
    {
    }

    /// <summary>Creates a detector with the given options (validated).</summary>
    public InjectionDetector(InjectionDetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The decision threshold in use.</summary>
    public double Threshold => _options.Threshold;

    /// <summary>True when <paramref name="result"/> is at or above the configured threshold.</summary>
    public bool IsInjection(InjectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Score >= _options.Threshold;
    }

    /// <inheritdoc />
    public InjectionResult Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 4) return InjectionResult.None;
        if (text.Length > _options.MaxScoredLength)
        {
            var half = _options.MaxScoredLength / 2;
            var head = Score(text[..half], 0);
            var tail = Score(text[^half..], 0);
            return head.Score >= tail.Score ? head : tail;
        }

        return Score(text, 0);
    }

    private InjectionResult Score(string text, int depth)
    {
        var state = new ScoreState(Rules.Length);
        Evaluate(text, ref state);
        var lexical = false;
        if (state.LexiconGate || !Ascii.IsValid(text)) lexical = AddLexicon(text, ref state);
        AddMarkerWithInstruction(lexical, ref state);

        state.BaseProduct = state.Product;
        if (depth == 0) ScoreTransforms(text, ref state);
        if (state.Product >= 1.0) return InjectionResult.None;

        var score = 1.0 - state.Product;

        // Discussion of attacks rather than an attack: damp.
        if (score > 0 && state.Meta)
        {
            var questionLike = text.Contains('?') || StartsWithQuestionWord(text);
            if (!state.UnquotedStrong || (questionLike && !state.ActionOrExtraction))
            {
                score *= 0.3;
                state.Signals?.Add("discussion_damped");
            }
        }

        score = Math.Clamp(Math.Round(score, 4), 0, 1);
        return new InjectionResult(score, (IReadOnlyList<string>?)state.Signals ?? []);
    }

    /// <summary>Multilingual concept combinations (see <see cref="InjectionLexicon"/>); true when one was found.</summary>
    private static bool AddLexicon(string text, ref ScoreState state)
    {
        var hits = new List<InjectionLexicon.Hit>();
        InjectionLexicon.Analyze(text, hits);
        foreach (var hit in hits)
        {
            if (hit.Weight <= 0) continue;
            state.Add(hit.Signal, hit.Weight);
            if (hit.Weight >= 0.45 && !IsQuoted(text, hit.Index, ref state)) state.UnquotedStrong = true;
            if (hit.Extraction && hit.Weight >= 0.3) state.ActionOrExtraction = true;
        }

        return hits.Count > 0;
    }

    /// <summary>
    /// A forged role marker or delimiter ("### System:", "[SYSTEM]", "&lt;|im_start|&gt;system") followed by any
    /// instruction signal is stronger than either alone: the marker is there to give the instruction authority.
    /// </summary>
    private static void AddMarkerWithInstruction(bool lexical, ref ScoreState state)
    {
        var marker = false;
        var instruction = lexical;
        foreach (var rule in Rules)
        {
            if (!state.Fired[rule.Index]) continue;
            if (rule.Category == Category.Delimiter) marker = true;
            else if (rule.Category is Category.Override or Category.Hijack or Category.Extraction or Category.Payload or Category.Indirect) instruction = true;
        }

        if (marker && instruction) state.Add("marker_with_instruction", 0.3);
    }

    private struct ScoreState(int ruleCount)
    {
        public readonly bool[] Fired = new bool[ruleCount];
        public double Product = 1.0;
        public double BaseProduct = 1.0;
        public List<string>? Signals;
        public bool UnquotedStrong;
        public bool ActionOrExtraction;
        public List<(int Start, int End)>? Quotes;
        public bool QuotesComputed;
        public bool Meta;

        /// <summary>A word of another language that can start a lexicon combination was seen.</summary>
        public bool LexiconGate;

        /// <summary>A token starts with one of <see cref="AddressWords"/> (noted in the word pass).</summary>
        public bool AddressWord;

        /// <summary>The text holds one of <see cref="ReversedAnchors"/> (noted in the word pass).</summary>
        public bool ReversedAnchor;

        /// <summary>The text holds one of <see cref="Rot13Anchors"/> (noted in the word pass).</summary>
        public bool Rot13Anchor;

        /// <summary>A pattern ran out of time: reported as a signal; the score keeps what was found.</summary>
        public void TimedOut()
        {
            Signals ??= [];
            if (!Signals.Contains("scan_timeout")) Signals.Add("scan_timeout");
        }

        public void Add(string signal, double weight)
        {
            Product *= 1.0 - Math.Clamp(weight, 0, 0.99);
            Signals ??= [];
            if (!Signals.Contains(signal)) Signals.Add(signal);
        }
    }

    private static void Evaluate(string text, ref ScoreState state)
    {
        var span = text.AsSpan();
        UInt128 scanMask = 0;
        UInt128 seen = 0;
        var attempts = ArrayPool<int>.Shared.Rent(256);
        var count = 0;
        try
        {
            // Pass 1 over the words: collect anchored attempts, note required words and discussion vocabulary.
            for (var i = 0; i < span.Length;)
            {
                if (!char.IsLetter(span[i]))
                {
                    i++;
                    continue;
                }

                var start = i;
                var h = HashStep(0, span[i]);
                i++;
                while (i < span.Length && (char.IsLetterOrDigit(span[i]) || (span[i] is '\'' or '’' && i + 1 < span.Length && char.IsLetter(span[i + 1]))))
                {
                    h = HashStep(h, span[i]);
                    i++;
                }

                if (!state.AddressWord && i - start >= 3 && StartsWithAddressWord(span[start..i])) state.AddressWord = true;

                // Every match of an obfuscation anchor (letters only) lies inside one token: tokens hold every letter.
                if (i - start >= MinObfuscationAnchor && !(state.ReversedAnchor && state.Rot13Anchor))
                {
                    NoteObfuscationAnchors(span[start..i], ref state);
                }

                if (start > 0 && char.IsAsciiDigit(span[start - 1])) continue;
                var bit = FilterBit(h);
                if ((WordFilter[bit >> 6] & (1UL << (bit & 63))) == 0) continue;
                if (!Words.TryGetValue(span[start..i], out var info)) continue;
                seen |= info.Required;
                if (info.LexiconTrigger) state.LexiconGate = true;
                if (info.MetaPhrases is { } phrases && !state.Meta)
                {
                    foreach (var phrase in phrases)
                    {
                        var end = start + phrase.Length;
                        if (span[start..].StartsWith(phrase, StringComparison.OrdinalIgnoreCase) && (end >= span.Length || !char.IsLetter(span[end])))
                        {
                            state.Meta = true;
                            break;
                        }
                    }
                }

                foreach (var r in info.Rules) Collect(r, start, ref attempts, ref count, ref scanMask);
            }

            // Symbols: "<|", "![", "[INST]", "/.ssh/", "@assistant", ….
            Span<int> ids = stackalloc int[8];
            for (var p = SymbolAnchors.Next(span, 0); p >= 0; p = SymbolAnchors.Next(span, p + 1))
            {
                var n = SymbolAnchors.MatchesAt(span, p, ids);
                for (var k = 0; k < n; k++)
                {
                    foreach (var r in RulesBySymbol[ids[k]]) Collect(r, p, ref attempts, ref count, ref scanMask);
                }
            }

            // Pass 2: anchored attempts of rules whose required words (and characters) occur.
            var skip = NeedMask & ~seen;
            foreach (var (c, rules) in CharNeeds)
            {
                if (span.IndexOf(c) < 0) skip |= rules;
            }

            var ascii = count > 0 && Ascii.IsValid(span);
            if (ascii && !state.AddressWord && !HasAddressMark(span)) skip |= UInt128.One << SendToRule;
            for (var a = 0; a < count; a++)
            {
                var r = attempts[a] & 127;
                if (((skip >> r) & UInt128.One) != 0) continue;
                if (ascii && !PrecededAsNeeded(span, r, attempts[a] >> 7)) continue;
                TryRule(text, r, attempts[a] >> 7, ref state);
            }

            scanMask &= ~skip;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(attempts);
        }

        if (scanMask == 0) return;
        foreach (var rule in Rules)
        {
            if (((scanMask >> rule.Index) & UInt128.One) == 0 || state.Fired[rule.Index]) continue;
            var tries = 0;
            try
            {
                foreach (var m in rule.Regex.EnumerateMatches(span))
                {
                    Fire(text, rule, m.Index, m.Length, ref state);
                    if (state.Fired[rule.Index] && !IsQuoted(text, m.Index, ref state)) break;
                    if (++tries >= 8) break;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                state.TimedOut();
            }
        }
    }

    /// <summary>'@', "://" or "www." (case-insensitive).</summary>
    private static bool HasAddressMark(ReadOnlySpan<char> text) =>
        text.Contains('@') || text.Contains("://", StringComparison.Ordinal) || text.Contains("www.", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a token of the word pass (3+ characters) starts with one of <see cref="AddressWords"/> (ASCII letters, any case).</summary>
    private static bool StartsWithAddressWord(ReadOnlySpan<char> token) => (token[0] | 0x20) switch
    {
        'u' => StartsWithWord(token, "url"),
        'a' => StartsWithWord(token, "address"),
        'e' => StartsWithWord(token, "endpoint") || StartsWithWord(token, "email"),
        'w' => StartsWithWord(token, "webhook"),
        's' => StartsWithWord(token, "server"),
        'i' => StartsWithWord(token, "inbox"),
        'l' => StartsWithWord(token, "link"),
        _ => false,
    };

    private static bool StartsWithWord(ReadOnlySpan<char> token, string word) =>
        token.Length >= word.Length && Ascii.EqualsIgnoreCase(token[..word.Length], word);

    /// <summary>
    /// Whether the SendTo rule is tried on <paramref name="text"/>: false only for ASCII text without an address mark and
    /// without a token starting with an address word (tests: must be true whenever SendTo matches somewhere).
    /// </summary>
    internal static bool SendToMayMatch(string text)
    {
        var state = new ScoreState(Rules.Length);
        Evaluate(text, ref state);
        return !Ascii.IsValid(text) || state.AddressWord || HasAddressMark(text);
    }

    /// <summary>
    /// False when rule <paramref name="r"/> has a look-behind that ends with one of a few words (or a comma) and white
    /// space, and the text before <paramref name="position"/> does not: no white space right before it, or the run of
    /// word characters before that white space is none of the words. For ASCII text (the caller checks).
    /// </summary>
    internal static bool PrecededAsNeeded(ReadOnlySpan<char> text, int r, int position)
    {
        if (PrecedingWords[r] is not { } need) return true;
        var end = position;
        while (end > 0 && char.IsWhiteSpace(text[end - 1])) end--;
        if (end == position || end == 0) return false;
        if (need.Comma && text[end - 1] == ',') return true;
        var start = end;
        while (start > 0 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] == '_')) start--;
        return start < end && need.Words.Contains(text[start..end]);
    }

    /// <summary>The index of the rule built on <paramref name="regex"/> (tests).</summary>
    internal static int RuleIndex(Regex regex) => Rules.First(rule => ReferenceEquals(rule.Regex, regex)).Index;

    private static void Collect(int r, int position, ref int[] attempts, ref int count, ref UInt128 scanMask)
    {
        if (!Rules[r].AtAnchor)
        {
            scanMask |= UInt128.One << r;
            return;
        }

        if (count == attempts.Length)
        {
            var bigger = ArrayPool<int>.Shared.Rent(attempts.Length * 2);
            attempts.AsSpan().CopyTo(bigger);
            ArrayPool<int>.Shared.Return(attempts);
            attempts = bigger;
        }

        attempts[count++] = (position << 7) | r;
    }

    private static void TryRule(string text, int r, int position, ref ScoreState state)
    {
        if (state.Fired[r]) return;
        var rule = Rules[r];

        try
        {
            // All anchored patterns start with \G: IsMatch answers for this position only.
            if (!rule.Regex.IsMatch(text.AsSpan(), position)) return;
            foreach (var m in rule.Regex.EnumerateMatches(text.AsSpan(), position))
            {
                if (m.Index == position) Fire(text, rule, m.Index, m.Length, ref state);
                break;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            state.TimedOut();
        }
    }

    private static void Fire(string text, Rule rule, int index, int length, ref ScoreState state)
    {
        var weight = AdjustedWeight(text, rule, index, length);
        if (weight <= 0) return;
        var quoted = IsQuoted(text, index, ref state);
        if (!state.Fired[rule.Index])
        {
            state.Fired[rule.Index] = true;
            state.Add(rule.Signal, weight);
        }

        if (!quoted && weight >= 0.45 && rule.Category is not (Category.Weak or Category.Framing)) state.UnquotedStrong = true;
        if (rule.Category is Category.Extraction or Category.Payload && weight >= 0.3) state.ActionOrExtraction = true;
    }

    /// <summary>Rule-specific refinements; 0 rejects the match.</summary>
    private static double AdjustedWeight(string text, Rule rule, int index, int length)
    {
        var regex = rule.Regex;
        if (ReferenceEquals(regex, P.OverrideFlexible()))
        {
            var m = regex.Match(text, index);
            var mid = m.Groups["mid"].ValueSpan;
            var tail = m.Groups["tail"].ValueSpan;
            if (P.SelfTail().IsMatch(tail)) return 0;
            var strongMid = P.OverrideStrongWord().IsMatch(mid);
            if (P.SelfWord().IsMatch(mid) && !mid.Contains("your", StringComparison.OrdinalIgnoreCase)) return 0;
            var strong = strongMid || P.OverrideStrongTail().IsMatch(tail);

            // Developers override methods, commands and configuration; only AI-directed objects count then.
            var verb = text.AsSpan(index, Math.Min(9, text.Length - index));
            if (!strong && (verb.StartsWith("overr", StringComparison.OrdinalIgnoreCase) || verb.StartsWith("bypass", StringComparison.OrdinalIgnoreCase)))
            {
                return 0;
            }

            return strong ? rule.Weight : 0.45;
        }

        if (ReferenceEquals(regex, P.SendTo()))
        {
            var m = regex.Match(text, index);
            var mid = m.Groups["mid"];
            return mid.Success && P.DataWords().IsMatch(text.AsSpan(mid.Index, mid.Length)) ? rule.Weight : 0.15;
        }

        if (ReferenceEquals(regex, P.BypassVerification()))
        {
            // "Never approve a refund without verification" is a rule for people, not an instruction to skip checks.
            var from = Math.Max(0, index - 32);
            return P.NegatedBefore().IsMatch(text.AsSpan(from, index - from)) ? 0 : rule.Weight;
        }

        if (ReferenceEquals(regex, P.ModeSwitch()))
        {
            // "how do I enable developer mode on my Android phone" / "on Android, enable developer mode".
            var sentenceStart = text.AsSpan(0, index).LastIndexOfAny(".?!\n") + 1;
            if (index - sentenceStart > 80) sentenceStart = index - 80;
            return P.DeviceContext().IsMatch(text.AsSpan(sentenceStart, index - sentenceStart)) ? 0 : rule.Weight;
        }

        if (ReferenceEquals(regex, P.AddressedToAi()) && text.AsSpan(index).StartsWith("dear", StringComparison.OrdinalIgnoreCase))
        {
            // "Dear assistant, could you…" is politeness; "Dear AI reading this: …" also fires AiReadingThis.
            return 0.3;
        }

        if (ReferenceEquals(regex, P.MarkdownImageWithQuery()))
        {
            var url = text.AsSpan(index, length);
            var q = url.IndexOf('?');
            var image = url.Length > 0 && url[0] == '!';
            return q >= 0 && P.BeaconTemplate().IsMatch(url[q..]) ? (image ? 0.7 : 0.5) : (image ? 0.2 : 0);
        }

        if (ReferenceEquals(regex, P.BeaconUrl()))
        {
            var url = text.AsSpan(index, Math.Min(text.Length - index, 400));
            var end = url.IndexOfAny(" \n\t)\"'>");
            if (end > 0) url = url[..end];
            var q = url.IndexOf('?');
            // A template ("?d={data}", "?q=SECRET") or an empty value to be filled in ("?d=") carries data out.
            return q >= 0 && (P.BeaconTemplate().IsMatch(url[q..]) || url[^1] == '=') ? 0.5 : 0.15;
        }

        return rule.Weight;
    }

    private static bool StartsWithQuestionWord(string text)
    {
        ReadOnlySpan<string> words = ["what", "how", "why", "is ", "are ", "can ", "could ", "should ", "explain", "define", "describe", "give me a definition", "which", "wat ", "was ", "qu'est", "qué", "que ", "write a blog", "write an article", "write an essay", "summarize the history"];
        var t = text.AsSpan().TrimStart();
        foreach (var w in words)
        {
            if (t.StartsWith(w, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool IsQuoted(string text, int index, ref ScoreState state)
    {
        if (!state.QuotesComputed)
        {
            state.QuotesComputed = true;
            state.Quotes = QuotedRegions(text);
        }

        if (state.Quotes is null) return false;
        foreach (var (s, e) in state.Quotes)
        {
            if (index > s && index < e) return true;
        }

        return false;
    }

    /// <summary>
    /// A quoted stretch with a sentence break inside ("Order shipped. Note to the agent: …") is quoted content —
    /// a document, a review, a tool result — in which an instruction still counts; a quoted example is a phrase.
    /// </summary>
    private static bool HoldsSentences(ReadOnlySpan<char> quoted)
    {
        for (var k = quoted.IndexOfAny('.', '!', '?'); k >= 0 && k + 2 < quoted.Length;)
        {
            if (quoted[k + 1] == ' ' && char.IsUpper(quoted[k + 2])) return true;
            var next = quoted[(k + 1)..].IndexOfAny('.', '!', '?');
            k = next < 0 ? -1 : k + 1 + next;
        }

        return false;
    }

    private static readonly SearchValues<char> QuoteChars = SearchValues.Create("\"“”«»`'‘’");

    /// <summary>Regions between matching quotes: "…", “…”, «…», `…` and '…' (apostrophes inside words ignored).</summary>
    private static List<(int, int)>? QuotedRegions(string text)
    {
        List<(int, int)>? regions = null;
        var open = -1;
        var openChar = '\0';
        var span = text.AsSpan();
        for (var i = span.IndexOfAny(QuoteChars); i >= 0;)
        {
            var c = span[i];
            if (open < 0)
            {
                if (c is '"' or '“' or '«' or '`' || (c is '\'' or '‘' && (i == 0 || !char.IsLetterOrDigit(span[i - 1]))))
                {
                    open = i;
                    openChar = c;
                }
            }
            else
            {
                var close = openChar switch
                {
                    '“' => c == '”',
                    '«' => c == '»',
                    '‘' => c == '’',
                    '\'' => c == '\'' && (i + 1 >= span.Length || !char.IsLetterOrDigit(span[i + 1])),
                    _ => c == openChar,
                };
                if (close)
                {
                    if (!HoldsSentences(span[(open + 1)..i])) (regions ??= []).Add((open, i));
                    open = -1;
                }
            }

            var next = span[(i + 1)..].IndexOfAny(QuoteChars);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return regions;
    }

    /// <summary>Decoded (base64, hex) and de-obfuscated (reversed, rot13, leetspeak, spaced letters) variants.</summary>
    private void ScoreTransforms(string text, ref ScoreState state)
    {
        var (encodedRun, spacedLetters) = CharacterScan(text);
        var decoded = 0;
        foreach (var candidate in encodedRun ? EncodedRuns(text) : Enumerable.Empty<string>())
        {
            if (decoded++ >= _options.MaxDecodedCandidates) break;
            var sub = Score(candidate, 1);
            if (sub.Score > 0.2) state.Add("encoded_instruction", sub.Score * 0.95);
            if (sub.Score >= 0.5) state.UnquotedStrong = true;
        }

        var span = text.AsSpan();
        if (state.ReversedAnchor)
        {
            var chars = text.ToCharArray();
            Array.Reverse(chars);
            AddObfuscated(new string(chars), ref state);
        }

        if (state.Rot13Anchor) AddObfuscated(Rot13(text), ref state);
        if (LeetCount(span) >= 2) AddObfuscated(Leet(text), ref state);
        if (spacedLetters >= 5 && TryCollapseSpacedLetters(text, out var collapsed)) AddObfuscated(collapsed, ref state);
    }

    private void AddObfuscated(string variant, ref ScoreState state)
    {
        // The variant repeats the readable parts of the text: count it only when it reveals more than the original.
        var sub = Score(variant, 1);
        if (sub.Score > 0.2 && sub.Score > (1.0 - state.BaseProduct) + 0.15)
        {
            state.Add("obfuscated_instruction", sub.Score * 0.95);
            if (sub.Score >= 0.5) state.UnquotedStrong = true; // a hidden instruction, not a quoted example
        }
    }

    private static readonly SearchValues<char> SpacingSeparators = SearchValues.Create(" .-_*");

    private static readonly SearchValues<char> Base64Run =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=");

    /// <summary>Base64 and hex runs (16+ characters) that decode to mostly printable text.</summary>
    private static IEnumerable<string> EncodedRuns(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var len = text.AsSpan(i).IndexOfAnyExcept(Base64Run);
            if (len < 0) len = text.Length - i;
            if (len == 0)
            {
                var next = text.AsSpan(i).IndexOfAny(Base64Run);
                if (next < 0) break;
                i += next;
                continue;
            }

            var start = i;
            i += len;
            if (len < 16 || len > 16 * 1024) continue;
            var run = text.AsSpan(start, len);

            // Encoded text mixes cases and digits; a long word or identifier does not.
            if (!SecretHeuristics.HasDigit(run) && !run.ContainsAny('+', '/') && !SecretHeuristics.HasUpperAndLower(run)) continue;
            var decoded = DecodeHex(run) ?? DecodeBase64(run);
            if (decoded is not null) yield return decoded;
        }
    }

    /// <summary>
    /// One scalar pass for the character-level transforms: whether a run of base64 characters long enough for
    /// <see cref="EncodedRuns"/> (16 to 16 Ki characters) occurs, and the longest chain of single letters joined by one
    /// separator that <see cref="TryCollapseSpacedLetters"/> counts. In prose nearly every run is a short word and every
    /// other character a separator, so one pass costs less than two vectorised searches per word.
    /// </summary>
    internal static (bool EncodedRun, int SpacedLetters) CharacterScan(ReadOnlySpan<char> span)
    {
        var encoded = false;
        var run = 0;
        var best = 0;
        var chain = 0;
        var last = -2;
        for (var k = 0; k < span.Length; k++)
        {
            var c = span[k];
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '-' or '_' or '=')
            {
                run++;
            }
            else
            {
                if (run is >= 16 and <= 16 * 1024) encoded = true;
                run = 0;
            }

            if (c is ' ' or '.' or '-' or '_' or '*' && k >= 1 && k + 1 < span.Length && char.IsLetter(span[k - 1]) && char.IsLetter(span[k + 1])
                && (k < 2 || !char.IsLetter(span[k - 2])) && (k + 2 >= span.Length || !char.IsLetter(span[k + 2])))
            {
                chain = k - last == 2 ? chain + 1 : 1;
                last = k;
                best = Math.Max(best, chain);
            }
        }

        if (run is >= 16 and <= 16 * 1024) encoded = true;
        return (encoded, best);
    }

    private static bool IsB64(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '-' or '_';

    private static string? DecodeBase64(ReadOnlySpan<char> run)
    {
        var body = run.TrimEnd('=');
        if (body.Length < 16) return null;
        var n = body.Length;
        if (n % 4 == 1) return null;
        var chars = ArrayPool<char>.Shared.Rent(n + 3);
        var bytes = ArrayPool<byte>.Shared.Rent(n + 3);
        try
        {
            for (var k = 0; k < body.Length; k++)
            {
                chars[k] = body[k] switch
                {
                    '-' => '+',
                    '_' => '/',
                    var c => c,
                };
            }

            while (n % 4 != 0) chars[n++] = '=';
            if (!Convert.TryFromBase64Chars(chars.AsSpan(0, n), bytes, out var written)) return null;
            return PrintableText(bytes.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static string? DecodeHex(ReadOnlySpan<char> run)
    {
        if (run.Length < 24 || run.Length % 2 != 0 || run.ContainsAnyExcept(SecretHeuristics.HexAny)) return null;
        var bytes = new byte[run.Length / 2];
        for (var k = 0; k < bytes.Length; k++)
        {
            bytes[k] = (byte)((HexValue(run[2 * k]) << 4) | HexValue(run[(2 * k) + 1]));
        }

        return PrintableText(bytes);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string? PrintableText(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8) return null;
        string s;
        try
        {
            s = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var printable = 0;
        var spaces = 0;
        foreach (var c in s)
        {
            if (c == ' ') spaces++;
            if (!char.IsControl(c) || c is '\n' or '\r' or '\t') printable++;
        }

        return printable >= s.Length * 0.95 && spaces >= 1 ? s : null;
    }

    private static string Rot13(string text) =>
        string.Create(text.Length, text, static (dst, src) =>
        {
            for (var k = 0; k < src.Length; k++)
            {
                var c = src[k];
                dst[k] = c switch
                {
                    >= 'a' and <= 'z' => (char)('a' + ((c - 'a' + 13) % 26)),
                    >= 'A' and <= 'Z' => (char)('A' + ((c - 'A' + 13) % 26)),
                    _ => c,
                };
            }
        });

    private static readonly SearchValues<char> LeetChars = SearchValues.Create("013457@$");

    /// <summary>Digits and symbols used as letters inside words (1gn0r3).</summary>
    internal static int LeetCount(ReadOnlySpan<char> s)
    {
        var count = 0;
        for (var k = s.Length > 2 ? s[1..^1].IndexOfAny(LeetChars) : -1; k >= 0;)
        {
            k++; // index into s
            if (char.IsAsciiLetter(s[k - 1]) && (char.IsAsciiLetter(s[k + 1]) || s[k + 1] is '0' or '1' or '3' or '4' or '5' or '7'))
            {
                count++;
            }

            var next = k + 1 < s.Length - 1 ? s[(k + 1)..^1].IndexOfAny(LeetChars) : -1;
            k = next < 0 ? -1 : k + next;
        }

        return count;
    }

    private static string Leet(string text) =>
        string.Create(text.Length, text, static (dst, src) =>
        {
            for (var k = 0; k < src.Length; k++)
            {
                var c = src[k];
                var inWord = (k > 0 && char.IsAsciiLetterOrDigit(src[k - 1])) || (k + 1 < src.Length && char.IsAsciiLetter(src[k + 1]));
                dst[k] = !inWord ? c : c switch
                {
                    '0' => 'o',
                    '1' => 'i',
                    '3' => 'e',
                    '4' => 'a',
                    '5' => 's',
                    '7' => 't',
                    '@' => 'a',
                    '$' => 's',
                    _ => c,
                };
            }
        });

    /// <summary>"i g n o r e  a l l" → "ignore all" when at least six single letters are spaced out.</summary>
    private static bool TryCollapseSpacedLetters(string text, out string collapsed)
    {
        collapsed = "";

        // Cheap pass over the separators: count single letters separated by one separator.
        var best = 0;
        var run = 0;
        var last = -2;
        var span = text.AsSpan();
        for (var k = span.IndexOfAny(SpacingSeparators); k >= 0;)
        {
            var single = k >= 1 && char.IsLetter(span[k - 1]) && (k < 2 || !char.IsLetter(span[k - 2]))
                         && k + 1 < span.Length && char.IsLetter(span[k + 1]) && (k + 2 >= span.Length || !char.IsLetter(span[k + 2]));
            if (single)
            {
                run = k - last == 2 ? run + 1 : 1;
                last = k;
                best = Math.Max(best, run);
            }

            var next = span[(k + 1)..].IndexOfAny(SpacingSeparators);
            k = next < 0 ? -1 : k + 1 + next;
        }

        // Five separators in a row join six single letters.
        if (best < 5) return false;
        var sb = new StringBuilder(text.Length);
        for (var k = 0; k < text.Length; k++)
        {
            var c = text[k];
            if (c is ' ' or '.' or '-' or '_' or '*' && k > 0 && k + 1 < text.Length && char.IsLetter(text[k - 1]) && char.IsLetter(text[k + 1])
                && (k < 2 || !char.IsLetter(text[k - 2])) && (k + 2 >= text.Length || !char.IsLetter(text[k + 2])))
            {
                continue;
            }

            sb.Append(c);
        }

        collapsed = sb.ToString();
        return true;
    }
}
