using System.Buffers;
using System.Collections.Frozen;

namespace TapPass.Governance.Detection;

/// <summary>
/// Multilingual concept lexicon for <see cref="InjectionDetector"/>: instead of one pattern per phrasing, the words
/// of a sentence are mapped to concepts (dismiss, rules, prior, you, authority, told, void, apply, negation,
/// no-more, from-now-on, reveal, secret, how) and a sentence is judged by the concepts it combines — "ignore/forget
/// + (previous/all/your) + instructions/rules", "the rules (you were given) no longer apply", "show + system
/// prompt/API keys" — in German, French, Spanish, Italian, Portuguese, Dutch, Polish, Czech, Russian, Ukrainian,
/// Turkish, Swedish, Norwegian, Danish, Finnish, Japanese, Chinese and Korean. English is left to the phrase rules:
/// every combination needs at least one non-English word, so English look-alikes ("ignore the previous error") are
/// never judged here. Inflected languages are matched by stems, Japanese, Chinese and Korean by substrings.
/// </summary>
internal static class InjectionLexicon
{
    [Flags]
    internal enum Concept : uint
    {
        None = 0,
        Dismiss = 1 << 0,
        Rules = 1 << 1,
        Prior = 1 << 2,
        You = 1 << 3,
        Authority = 1 << 4,
        Told = 1 << 5,
        Void = 1 << 6,
        Apply = 1 << 7,
        Negation = 1 << 8,
        NoMore = 1 << 9,
        FromNowOn = 1 << 10,
        Reveal = 1 << 11,
        Secret = 1 << 12,
        How = 1 << 13,
        AiAddressee = 1 << 14,
        Note = 1 << 15,
    }

    /// <summary>One combination found in a sentence.</summary>
    /// <param name="Signal">Signal name.</param>
    /// <param name="Extraction">Whether it asks for the prompt or secrets (an extraction, not an override).</param>
    /// <param name="Weight">Weight of the signal.</param>
    /// <param name="Index">Start of the sentence's last trigger word (for the quote check).</param>
    internal readonly record struct Hit(string Signal, bool Extraction, double Weight, int Index);

    private readonly record struct Entry(Concept Concepts, bool Foreign);

    private const int MaxSentence = 320;
    private const Concept TriggerConcepts = Concept.Dismiss | Concept.Void | Concept.Apply | Concept.NoMore | Concept.Reveal | Concept.FromNowOn | Concept.AiAddressee;
    private const int MaxWord = 40;

    // Words of the lexicon. "=word" is an exact word (or two words "a b"), "word" a stem (any word starting with it);
    // a leading "~" marks a word spelled like English (it never makes a combination on its own).
    private static readonly (Concept Concept, string[] Words)[] Latin =
    [
        (Concept.Dismiss,
        [
            // de
            "=ignoriere", "=ignorier", "=ignoriert", "=ignorieren", "=vergiss", "=vergesst", "=missachte", "=missachtet", "=verwirf", "=verwerft",
            "=übergehe", "=überspring", "=überspringe", "=hinweg",
            // fr
            "=ignorez", "=oublie", "=oubliez", "=néglige", "=négligez", "=outrepasse", "=outrepassez", "=contourne", "=contournez", "=ignorer",
            "=oublier",
            // es
            "=ignora", "=ignoren", "=olvida", "=olvide", "=olviden", "=olvídate", "=olvidate", "=olvídese", "=omite", "=omita", "=descarta", "=descarte",
            // it
            "=ignorate", "=dimentica", "=dimenticate", "=dimenticati", "=trascura", "=trascurate", "=tralascia",
            // pt
            "=esqueça", "=esqueca", "=esqueçam", "=desconsidere", "=desconsidera", "=ignorem", "=descarte", "=despreze", "=despreza",
            "~=ignore",
            // nl
            "=negeer", "=negeren", "=vergeet", "=vergeten", "=verwaarloos", "=omzeil", "=omzeilen", "=laat varen",
            // pl
            "=zignoruj", "=zignorujcie", "=ignoruj", "=ignorujcie", "=zapomnij", "=zapomnijcie", "=pomiń", "=pomin", "=pomińcie", "=odrzuć",
            "=odrzuc", "=porzuć", "=porzuc", "=olej", "=nie stosuj", "=nie przestrzegaj", "=nie słuchaj", "=nie sluchaj",
            // cs / sk
            "=ignoruj", "=ignorujte", "=zapomeň", "=zapomen", "=zapomeňte", "=zabudni", "=neber", "=nedbej",
            // ru / uk
            "игнорир", "проигнорир", "=забудь", "=забудьте", "=отбрось", "=отбросьте", "=отмени", "=отмените", "=пропусти", "=не обращай",
            "=не слушай", "=не следуй", "=не выполняй", "ігнор", "проігнор", "=забудь", "=забудьте", "=відкинь", "=не зважай",
            // tr
            "=yok say", "=yok sayın", "=yoksay", "=görmezden", "=gormezden", "=unut", "=unutun", "=boşver", "=bosver", "=önemseme", "=onemseme",
            "=dikkate alma", "=uyma", "=uymayın",
            // sv / no / da
            "=ignorera", "=glöm", "=glom", "=strunta", "=bortse", "=ignorér", "=glem", "=glemm", "=se bort", "=overse", "=tilsidesæt",
            // fi
            "=unohda", "=unohtakaa", "=ohita", "=ohittakaa", "=sivuuta", "=älä noudata", "=ala noudata", "=ignooraa",
        ]),
        (Concept.Rules,
        [
            "anweisung", "regeln", "vorgabe", "richtlinie", "instruktion", "befehle", "systemprompt", "systemanweisung", "einschränkung",
            "beschränkung", "anordnung",
            "~instruction", "consigne", "règle", "regle", "directive", "~restriction", "ordres",
            "instrucci", "reglas", "indicaciones", "directriz", "directrices", "normas", "órdenes", "ordenes", "restricci",
            "istruzion", "regole", "direttiv", "restrizion", "indicazion",
            "instruç", "instruc", "regras", "orientaç", "orientac", "diretriz", "restriç", "restric", "ordens",
            "instructie", "regels", "richtlijn", "opdracht", "aanwijzing", "beperking", "systeemprompt",
            "polecen", "instrukcj", "zasad", "reguł", "regul", "wytyczn", "ograniczen", "nakaz",
            "pokyn", "instrukc", "pravidl", "omezen",
            "инструкц", "правил", "указани", "ограничени", "промпт", "директив", "установк", "команд",
            "інструкц", "вказівк", "обмежен",
            "talimat", "kural", "yönerge", "yonerge", "komut", "kısıtlama", "kisitlama", "istem",
            "instruktion", "regler", "direktiv", "riktlinj", "begränsning", "begransning", "instruks", "retningslinj", "begrensning",
            "begrænsning", "ohje", "säänn", "sääntö", "saann", "rajoitu", "kehote",
            "~prompt",
        ]),
        (Concept.Prior,
        [
            "=alle", "=allen", "=sämtliche", "vorherig", "bisherig", "vorig", "obig", "früher", "ursprünglich",
            "=toutes", "=tous", "précédent", "antérieur", "initiales",
            "=todas", "=todos", "anterior", "previa", "=tutte", "=tutti", "precedent",
            "prévia",
            "=alle", "vorige", "eerdere", "=eerder", "oorspronkelijk",
            "wszystk", "poprzedni", "wcześniejsz", "dotychczasow", "=żadne", "=zadne", "=żadnych", "=zadnych",
            "všechn", "vsechn", "předchozí", "predchozi",
            "=все", "=всех", "=всё", "предыдущ", "прежн", "ранее", "=всі", "попередн",
            "önceki", "onceki", "=tüm", "=tum", "=bütün", "=butun", "=hepsini", "şimdiye", "simdiye",
            "=alla", "tidigare", "föregående", "=alle", "=alt", "=allt", "tidligere", "forrige",
            "=kaikki", "aiemm", "edellis",
        ]),
        (Concept.You,
        [
            "=deine", "=deinen", "=deiner", "=dein", "=ihre", "=dir", "=dich", "=du",
            "=tes", "=vos", "=tu", "=te", "=ton", "=ta", "=votre", "=vous",
            "=tus", "=sus", "=tu", "=te", "=tuyas",
            "=tue", "=tuoi", "=ti",
            "=suas", "=seus", "=tuas", "=teus", "=você", "=voce",
            "=je", "=jouw", "=jij", "=u", "=uw",
            "=twoje", "=twoich", "=twój", "=twoj", "=twojego", "=swój", "=swoj", "=swoje", "=swojego", "=cię", "=cie", "=ci", "=ty", "=tobie",
            "=tvoje", "=tvé", "=tve", "=ti", "=ty",
            "=твои", "=твой", "=твою", "=твоих", "=свой", "=свою", "=свои", "=ты", "=тебя", "=тебе", "=вас", "=ваши", "=твої", "=свій",
            "=sen", "=senin", "=sana", "=seni",
            "=du", "=dig", "=dina", "=din", "=ditt", "=dine", "=deg", "=dere",
            "=sinun", "=sinulle", "=sinä", "=sina",
        ]),
        (Concept.Authority,
        [
            "entwickler", "betreiber", "~administrator", "développeur", "developpeur", "opérateur", "administrateur", "système",
            "desarrollador", "operador", "administrador", "sistema", "sviluppator", "operatore", "amministrator", "desenvolvedor",
            "ontwikkelaar", "beheerder", "systeem", "deweloper", "programist", "twórc", "tworc", "vývojář", "vyvojar",
            "разработчик", "администратор", "оператор", "создател", "розробник",
            "geliştirici", "gelistirici", "yönetici", "yonetici", "utvecklar", "utvikler", "udvikler", "kehittäjä", "kehittaja", "ylläpitäjä",
        ]),
        (Concept.Told,
        [
            "=gesagt", "=befohlen", "=aufgetragen", "=angewiesen", "=vorgegeben",
            "=dit", "=demandé", "=ordonné", "=dicho", "=ordenado", "=indicado", "=detto", "=ordinato", "=disse", "=mandou", "=ordenou",
            "=opgedragen", "=gezegd", "=verteld", "=gegeven",
            "powiedział", "powiedzial", "kazał", "kazal", "polecił", "polecil", "przekazał",
            "řekl", "rekl", "сказал", "велел", "приказал", "поручил", "дали", "сказав", "söyled", "soyled", "verdiği", "verdigi",
            "=sagt", "=sa", "=fått", "=fatt", "=sagde", "=fått", "=fikk", "=fik", "käski", "kaski", "sanoi",
        ]),
        (Concept.Void,
        [
            "ungültig", "ungultig", "aufgehoben", "hinfällig", "nichtig", "annulé", "annule", "caduque", "invalide", "obsolète",
            "anulad", "inválid", "~invalid", "~obsolet", "annullat", "cancelad", "ongeldig", "vervallen", "geannuleerd", "nietig",
            "nieważn", "niewazn", "anulowan", "unieważn", "uniewazn", "neplatn", "zrušen", "zrusen",
            "недействительн", "отменен", "отменён", "аннулирован", "скасован", "недійсн",
            "geçersiz", "gecersiz", "iptal", "ogiltig", "upphävd", "annullerad", "ugyldig", "opphevet", "ophævet", "mitätön", "peruttu",
        ]),
        (Concept.Apply,
        [
            "=gelten", "=gilt", "=s'appliquent", "=applicano", "=aplican", "=aplicam", "=valen", "=valgono", "=valem", "=gelden",
            "obowiązuj", "obowiazuj", "platí", "plati", "действуют", "действует", "применяются", "діють",
            "geçerli", "gecerli", "=gäller", "=galler", "=gjelder", "=gælder", "=galder", "voimassa", "päde", "pade",
        ]),
        (Concept.Negation,
        [
            "=nicht", "=kein", "=keine", "=pas", "=plus", "=no", "=non", "=niet", "=geen", "=nie", "=ne", "=не", "=нет", "=ні",
            "=değil", "=degil", "=inte", "=ej", "=ikke", "=ei", "=eivät", "=eivat",
        ]),
        (Concept.NoMore,
        [
            "=keine", "=plus", "=más", "=nessuna", "=nessun", "=nenhuma", "=geen", "=żadnych", "=zadnych", "=żadne", "=zadne", "=žádná",
            "=žádné", "=больше", "=нет", "=більше", "=artık", "=artik", "=inga", "=ingen", "=ingen", "=ei enää", "=enää",
        ]),
        (Concept.FromNowOn,
        [
            "=ab sofort", "=ab jetzt", "=von nun", "=désormais", "=dorénavant", "=maintenant", "=ahora", "=adelante", "=ora", "=poi",
            "=agora", "=diante", "=vanaf nu", "=voortaan", "=od teraz", "=od tej", "=od nynějška", "=od teď", "=отныне", "=теперь",
            "=момента", "=відтепер", "=bundan sonra", "=artık", "=artik", "=hädanefter", "=från och", "=fra nå", "=fremover",
            "=herefter", "=tästä lähtien", "=nyt",
        ]),
        (Concept.Reveal,
        [
            "=zeig", "=zeige", "=zeigen", "=gib", "=nenne", "=nennen", "=verrate", "=wiederhole", "=drucke", "=liste",
            "=montre", "=montrez", "=affiche", "=affichez", "=révèle", "=révélez", "=donne", "=donnez", "=donne-moi", "=écris", "=répète",
            "=muestra", "=muéstrame", "=muestrame", "=revela", "=revélame", "=dame", "=dime", "=escribe", "=imprime", "=repite",
            "=mostra", "=mostrami", "=rivela", "=dammi", "=dimmi", "=scrivi", "=stampa", "=ripeti",
            "=mostre", "=revele", "=exiba", "=escreva",
            "=toon", "=geef", "=vertel", "=herhaal", "=schrijf",
            "=pokaż", "=pokaz", "=wyświetl", "=wyswietl", "=podaj", "=ujawnij", "=wypisz", "=napisz", "=zdradź", "=zdradz", "=wyślij",
            "=ukaž", "=ukaz", "=vypiš", "=vypis", "=napiš", "=prozraď",
            "=покажи", "=покажите", "=выведи", "=выведите", "=раскрой", "=напиши", "=дай", "=сообщи", "=перечисли", "=повтори", "=отправь",
            "=покажи", "=виведи", "=розкрий", "=напиши", "=дай",
            "=göster", "=goster", "=yaz", "=yazdır", "=yazdir", "=paylaş", "=paylas", "=açıkla", "=acikla", "=söyle", "=soyle",
            "=visa", "=skriv", "=berätta", "=beratta", "=fortell", "=fortæl", "=giv",
            "=näytä", "=nayta", "=kerro", "=tulosta", "=listaa",
        ]),
        (Concept.Secret,
        [
            "systemprompt", "~prompt", "промпт", "istem", "kehote", "passwort", "passwört", "mots", "contraseñ", "contrasen", "senha",
            "wachtwoord", "hasł", "hasl", "heslo", "hesla", "пароль", "пароли", "парол", "şifre", "sifre", "parola", "lösenord", "losenord",
            "passord", "adgangskode", "salasana", "salasanat", "schlüssel", "schlussel", "clés", "cles", "claves", "chiavi", "chaves",
            "klucz", "klíč", "klic", "ключ", "ключі", "anahtar", "nycklar", "nøkler", "nøgler", "avaimet", "~token", "токен",
            "konfiguration", "~configuration", "configuración", "configurazione", "configuração", "konfiguracj", "конфигурац",
            "yapılandırma", "yapilandirma", "geheimnisse", "~secrets", "secretos", "segreti", "segredos", "sekret", "секрет",
            "credenziali", "credenciales", "credenciais", "zugangsdaten", "dane logowania", "учетные",
        ]),
        (Concept.AiAddressee,
        [
            "=ia", "=ki", "=ии", "=ші", "=yz", "=yapay zeka", "=tekoäly", "=tekoälylle", "=sztucznej inteligencji", "=ai-assistent",
            "=ki-assistent", "=assistente", "=asistente", "=assistant-ia", "=модели", "=модель", "=ассистент", "=ассистенту", "=asystent",
            "=asystenta", "=asystencie", "=modelo", "=modello", "=modèle", "=modell", "=modellen", "=sprachmodell", "=taalmodel",
        ]),
        (Concept.Note,
        [
            "=nota", "=notatka", "=hinweis", "=notiz", "=notitie", "=примечание", "=заметка", "=anteckning", "=huomautus",
            "=instrução", "=instrucao", "=instrucción", "=instruccion", "=istruzione", "=anweisung", "=instructie", "=instrukcja",
            "=инструкция", "=talimat", "=instruktion", "=ohje", "=mensagem", "=mensaje", "=messaggio", "=nachricht", "=bericht",
            "=wiadomość", "=сообщение",
        ]),
        (Concept.How,
        [
            "=wie", "=comment", "=cómo", "=como", "=come", "=hoe", "=jak", "=как", "=як", "=nasıl", "=nasil", "=hur", "=hvordan",
            "=miten", "=kuinka", "=beispiel", "=exemple", "=ejemplo", "=esempio", "=exemplo", "=voorbeeld", "=przykład", "=przyklad",
            "=пример", "=örnek", "=ornek", "=exempel", "=eksempel", "=esimerkki", "=warum", "=pourquoi", "=por qué", "=perché",
        ]),
    ];

    private static readonly (Concept Concept, string[] Words)[] Cjk =
    [
        (Concept.Dismiss, ["無視", "无视", "忽略", "忽視", "忘れ", "忘记", "忘掉", "忘記", "不要遵守", "不要遵循", "不理会", "무시", "잊어", "잊으"]),
        (Concept.Rules, ["指示", "指令", "规则", "規則", "ルール", "制限", "限制", "命令", "约束", "プロンプト", "提示词", "提示", "设定", "설정", "지시", "지침", "규칙", "명령", "제한", "프롬프트"]),
        (Concept.Prior, ["これまで", "以前", "前の", "すべて", "全て", "全部", "之前", "所有", "以上", "先前", "上面", "이전", "모든", "앞의"]),
        (Concept.You, ["あなた", "君", "你", "您", "너", "당신"]),
        (Concept.Authority, ["開発者", "管理者", "开发者", "开发人员", "管理员", "개발자", "관리자"]),
        (Concept.Void, ["無効", "取り消", "撤回", "无效", "作废", "失效", "무효", "취소"]),
        (Concept.FromNowOn, ["今後", "これから", "今から", "从现在开始", "从现在起", "今后", "지금부터", "앞으로"]),
        (Concept.NoMore, ["もう", "不再", "더 이상", "더이상"]),
        (Concept.Reveal, ["表示", "見せ", "教えて", "出力", "書いて", "显示", "输出", "告诉我", "给我", "打印", "展示", "透露", "보여", "출력", "알려"]),
        (Concept.Secret, ["システムプロンプト", "プロンプト", "パスワード", "APIキー", "系统提示", "提示词", "密码", "密钥", "API密钥", "프롬프트", "비밀번호"]),
        (Concept.AiAddressee, ["人工智能", "AIへ", "AIに", "致AI", "给AI", "AI에게"]),
        (Concept.How, ["方法", "書き方", "やり方", "作り方", "如何", "怎么", "怎样", "어떻게", "방법", "例"]),
    ];

    private static readonly FrozenDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> Exact;
    private static readonly FrozenDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> Stems;
    private static readonly (string Text, Concept Concept)[] CjkEntries;
    private static readonly int MaxStem;

    /// <summary>
    /// All-ASCII spellings of trigger words: an ASCII text is analysed only when one of them occurs (any non-ASCII
    /// text is analysed). A cheap gate, not a decision.
    /// </summary>
    private static readonly SearchValues<string> AsciiTriggers;

    static InjectionLexicon()
    {
        var exact = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var stems = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var triggers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (concept, words) in Latin)
        {
            foreach (var raw in words)
            {
                var w = raw;
                var foreign = true;
                if (w.StartsWith('~'))
                {
                    foreign = false;
                    w = w[1..];
                }

                var isExact = w.StartsWith('=');
                if (isExact) w = w[1..];
                w = w.ToLowerInvariant();
                var target = isExact ? exact : stems;
                var previous = target.GetValueOrDefault(w);
                target[w] = new Entry(previous.Concepts | concept, previous.Concepts == Concept.None ? foreign : previous.Foreign && foreign);
                if ((concept & TriggerConcepts) != 0 && foreign && System.Text.Ascii.IsValid(w) && w.Length >= 3)
                {
                    triggers.Add(isExact ? w : w);
                }
            }
        }

        Exact = exact.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        Stems = stems.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        MaxStem = stems.Keys.Max(k => k.Length);
        CjkEntries = Cjk.SelectMany(c => c.Words.Select(w => (w, c.Concept))).ToArray();

        // Short ASCII triggers ("ora", "poi", "nyt", "yaz") and those inside common English words ("ignora" in
        // ignorant, "dime" in dimension, "toon" in cartoon) would open the gate on most English text; such texts
        // are still analysed when they hold another trigger or any non-ASCII character.
        string[] englishLike = ["ignora", "dime", "dame", "visa", "toon", "unut", "liste", "donne", "olej", "uyma"];
        AsciiTriggerWords = triggers.SelectMany(t => t.Split(' ')).Where(t => t.Length >= 4 && Array.IndexOf(englishLike, t) < 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        AsciiTriggers = SearchValues.Create(AsciiTriggerWords, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// All-ASCII trigger words (whole words). <see cref="InjectionDetector"/> notes them in its own word pass, so
    /// clean English text costs no extra pass.
    /// </summary>
    internal static string[] AsciiTriggerWords { get; }

    /// <summary>Whether <paramref name="text"/> may hold a combination (cheap gate; substring form of the word gate).</summary>
    public static bool MayApply(ReadOnlySpan<char> text) =>
        !System.Text.Ascii.IsValid(text) || text.ContainsAny(AsciiTriggers);

    /// <summary>Appends the combinations found in the sentences of <paramref name="text"/> to <paramref name="hits"/>.</summary>
    public static void Analyze(ReadOnlySpan<char> text, List<Hit> hits)
    {
        Span<char> lower = stackalloc char[MaxWord];
        Span<char> pair = stackalloc char[(2 * MaxWord) + 1];
        var prevLen = 0;
        Span<char> prev = stackalloc char[MaxWord];
        Concept concepts = Concept.None;
        Concept foreign = Concept.None;
        var sentenceStart = 0;
        var trigger = 0;
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (IsSentenceEnd(c) || i - sentenceStart > MaxSentence)
            {
                Judge(concepts, foreign, c is '?' or '？', trigger, hits);
                concepts = foreign = Concept.None;
                prevLen = 0;
                i++;
                sentenceStart = i;
                continue;
            }

            if (!char.IsLetter(c))
            {
                if (!(c is ' ' or '\t' or '-' or '\'' or '’')) prevLen = 0;
                i++;
                continue;
            }

            var start = i;
            var cjk = false;
            while (i < text.Length && (char.IsLetter(text[i]) || (text[i] is '\'' or '’' && i + 1 < text.Length && char.IsLetter(text[i + 1]))))
            {
                cjk |= IsCjk(text[i]);
                i++;
            }

            var word = text[start..i];
            if (cjk)
            {
                foreach (var (entry, concept) in CjkEntries)
                {
                    if (word.Contains(entry, StringComparison.Ordinal))
                    {
                        concepts |= concept;
                        foreign |= concept;
                        if ((concept & TriggerConcepts) != 0) trigger = start;
                    }
                }

                prevLen = 0;
                continue;
            }

            if (word.Length > MaxWord)
            {
                prevLen = 0;
                continue;
            }

            var n = word.ToLowerInvariant(lower);
            var w = lower[..n];
            var e = Lookup(w);
            if (prevLen > 0)
            {
                prev[..prevLen].CopyTo(pair);
                pair[prevLen] = ' ';
                w.CopyTo(pair[(prevLen + 1)..]);
                if (Exact.TryGetValue(pair[..(prevLen + 1 + n)], out var two))
                {
                    e = new Entry(e.Concepts | two.Concepts, two.Foreign || e.Foreign);
                }
            }

            if (e.Concepts != Concept.None)
            {
                concepts |= e.Concepts;
                if (e.Foreign) foreign |= e.Concepts;
                if ((e.Concepts & TriggerConcepts) != 0) trigger = start;
            }

            w.CopyTo(prev);
            prevLen = n;
        }

        Judge(concepts, foreign, false, trigger, hits);
    }

    private static Entry Lookup(ReadOnlySpan<char> w)
    {
        Concept concepts = Concept.None;
        var foreign = false;
        if (Exact.TryGetValue(w, out var e))
        {
            concepts |= e.Concepts;
            foreign |= e.Foreign;
        }

        for (var len = Math.Min(w.Length, MaxStem); len >= 3; len--)
        {
            if (Stems.TryGetValue(w[..len], out var s))
            {
                concepts |= s.Concepts;
                foreign |= s.Foreign;
                break;
            }
        }

        return new Entry(concepts, foreign);
    }

    private static void Judge(Concept c, Concept foreign, bool question, int index, List<Hit> hits)
    {
        if (foreign == Concept.None || c == Concept.None) return;
        var damp = question ? 0.35 : 1.0;
        bool Has(Concept all) => (c & all) == all;
        bool Any(Concept any) => (c & any) != 0;
        bool Foreign(Concept any) => (foreign & any) != 0;

        // "Ignore/forget + all/previous/system + instructions", "ignore what the developer told you"; with "your" only
        // ("forget your grammar rules") it is weaker.
        if (Has(Concept.Dismiss | Concept.Rules) && Any(Concept.Prior | Concept.Authority) && Foreign(Concept.Dismiss | Concept.Rules))
        {
            hits.Add(new Hit("multilingual_override", false, 0.8 * damp, index));
        }
        else if (Has(Concept.Dismiss | Concept.Authority | Concept.Told) && Foreign(Concept.Dismiss | Concept.Authority | Concept.Told))
        {
            hits.Add(new Hit("multilingual_override", false, 0.75 * damp, index));
        }
        else if (Has(Concept.Dismiss | Concept.Rules | Concept.You) && Foreign(Concept.Dismiss | Concept.Rules))
        {
            hits.Add(new Hit("multilingual_override", false, 0.45 * damp, index));
        }

        // "Your (previous) rules are void / no longer apply (from now on)".
        if (Any(Concept.Rules) && Any(Concept.You | Concept.FromNowOn | Concept.Authority | Concept.Prior)
            && (Any(Concept.Void) || Has(Concept.Apply | Concept.Negation)) && Foreign(Concept.Void | Concept.Apply))
        {
            hits.Add(new Hit("multilingual_override", false, 0.75 * damp, index));
        }

        // "From now on you have no more restrictions".
        if (Has(Concept.NoMore | Concept.Rules) && Any(Concept.You | Concept.FromNowOn) && Foreign(Concept.NoMore | Concept.FromNowOn))
        {
            hits.Add(new Hit("multilingual_no_restrictions", false, 0.65 * damp, index));
        }

        // "Instrução para a IA: …", "Hinweis an die KI: …" — text addressed to the AI inside a document.
        if (Has(Concept.AiAddressee) && Any(Concept.Note | Concept.Rules) && !Any(Concept.How) && Foreign(Concept.AiAddressee | Concept.Note | Concept.Rules))
        {
            hits.Add(new Hit("multilingual_addressed_to_ai", false, 0.45 * damp, index));
        }

        // "Show (your) system prompt / give all API keys", not "how to write a system prompt".
        if (Has(Concept.Reveal | Concept.Secret) && !Any(Concept.How) && Foreign(Concept.Reveal | Concept.Secret))
        {
            hits.Add(new Hit("multilingual_extraction", true, 0.6 * damp, index));
        }
    }

    private static bool IsSentenceEnd(char c) => c is '.' or '!' or '?' or ';' or '\n' or '。' or '！' or '？' or '；';

    private static bool IsCjk(char c) =>
        c is (>= '\u3040' and <= '\u30FF') or (>= '\u3400' and <= '\u9FFF') or (>= '\uAC00' and <= '\uD7AF') or (>= '\u1100' and <= '\u11FF') or (>= '\uF900' and <= '\uFAFF');
}
