package ringfence

import (
	"regexp"
	"strings"
	"time"
	"unicode"
)

// RescheduleDay is the day a caller asked to be called again, as the reschedule tool keeps it.
type RescheduleDay struct {
	// Day is the weekday's full lower-case English name ("friday") or an ISO date
	// ("2026-12-11"); when the words given name no day ringfence recognises, it is those words.
	Day string
	// Unparsed is true when Day holds the words given rather than a day: the agent speaks the
	// caller's language and the tool gets whatever the model extracted, so what cannot be read
	// is kept for a person to read, never refused.
	Unparsed bool
}

// MaxRescheduleWords bounds the words kept when they are not understood, in bytes.
const MaxRescheduleWords = MaxNameLength

// ParseRescheduleDay reads the day a caller asked to be called again, in any of the languages
// the providers' agents speak: a weekday's name in English, Hindi (Devanagari or romanised),
// Spanish, German, French or Portuguese, with or without accents and words around it ("next
// friday", "el viernes", "शुक्रवार को"); an ISO date ("2026-12-11"); or a relative word (today,
// tomorrow, the day after tomorrow, and their equivalents), which becomes the date it means
// counted from today's date in today's location.
//
// Hindi's कल ("kal") means both yesterday and tomorrow, and परसों ("parson") both the day before
// yesterday and the day after tomorrow; a callback is never in the past, so they are read as
// tomorrow and the day after tomorrow. Words that name two different days, or none, are kept as
// given with Unparsed set. Only an empty day, or one with control characters, is refused.
func ParseRescheduleDay(s string, today time.Time) (RescheduleDay, error) {
	words := strings.TrimSpace(CutText(strings.Join(strings.Fields(s), " "), MaxRescheduleWords))
	if words == "" {
		return RescheduleDay{}, Errorf(EINVALID, "reschedule_day is required")
	}
	if err := ValidateText("reschedule_day", words, MaxRescheduleWords); err != nil {
		return RescheduleDay{}, err
	}
	if day, ok := understoodDay(words, today); ok {
		return RescheduleDay{Day: day}, nil
	}
	return RescheduleDay{Day: words, Unparsed: true}, nil
}

// isoDate finds a calendar date written the ISO way.
var isoDate = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)

// understoodDay reads the day words name, if they name exactly one.
func understoodDay(words string, today time.Time) (string, bool) {
	var found []string
	for _, d := range isoDate.FindAllString(words, -1) {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return "", false // A date that is no date (2026-13-45) is not guessed at.
		}
		found = append(found, t.Format(time.DateOnly))
	}
	tokens := dayTokens(isoDate.ReplaceAllString(words, " "))
	for _, token := range tokens {
		if d, ok := weekdayNames[token]; ok {
			found = append(found, strings.ToLower(d.String()))
		}
	}
	if len(found) == 0 {
		// A relative word counts only without a weekday or a date: "el viernes por la mañana" is
		// Friday morning, and German's "Freitag morgen" Friday morning, not tomorrow.
		if days, ok := relativeDays(tokens); ok {
			found = append(found, today.AddDate(0, 0, days).Format(time.DateOnly))
		}
	}
	if len(found) == 0 {
		return "", false
	}
	for _, d := range found[1:] {
		if d != found[0] {
			return "", false // Two different days: which one the caller meant is for a person to read.
		}
	}
	return found[0], true
}

// dayTokens splits words into lower-case tokens without accents, at spaces, punctuation and
// symbols: "Après-demain," reads as "apres", "demain".
func dayTokens(words string) []string {
	folded := withoutAccents.Replace(strings.ToLower(words))
	return strings.FieldsFunc(folded, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
}

// withoutAccents folds the accented letters of the Latin-script languages read here.
var withoutAccents = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "õ", "o", "ö", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "ß", "ss",
)

// relativeDays reads a relative day among the tokens: how many days from today it is. The
// longer phrase is looked for first ("day after tomorrow" before "tomorrow").
func relativeDays(tokens []string) (int, bool) {
	text := " " + strings.Join(tokens, " ") + " "
	for _, r := range relativeWords {
		for _, phrase := range r.phrases {
			if strings.Contains(text, " "+phrase+" ") {
				return r.days, true
			}
		}
	}
	return 0, false
}

// relativeWords are the relative days, accents folded, longest phrases first.
var relativeWords = []struct {
	days    int
	phrases []string
}{
	{2, []string{
		"day after tomorrow", "pasado manana", "ubermorgen", "uebermorgen", "apres demain",
		"depois de amanha", "परसों", "parson", "parso", "parsoon", "parsun",
	}},
	{1, []string{"tomorrow", "manana", "morgen", "demain", "amanha", "कल", "kal", "kall"}},
	{0, []string{"today", "hoy", "heute", "aujourd hui", "aujourdhui", "hoje", "आज", "aaj"}},
}

// weekdayNames maps each weekday's names and common spellings, lower-case with accents folded,
// to the weekday: English (with its abbreviations), Hindi in Devanagari and romanised, Spanish,
// German, French and Portuguese ("segunda-feira" reads as its first word).
var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday,
	"monday": time.Monday, "mon": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday,
	"friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday,

	"रविवार": time.Sunday, "इतवार": time.Sunday, "ravivar": time.Sunday, "ravivaar": time.Sunday, "raviwar": time.Sunday, "itvar": time.Sunday, "itwar": time.Sunday, "itvaar": time.Sunday,
	"सोमवार": time.Monday, "somvar": time.Monday, "somvaar": time.Monday, "somwar": time.Monday,
	"मंगलवार": time.Tuesday, "mangalvar": time.Tuesday, "mangalvaar": time.Tuesday, "mangalwar": time.Tuesday,
	"बुधवार": time.Wednesday, "budhvar": time.Wednesday, "budhvaar": time.Wednesday, "budhwar": time.Wednesday,
	"गुरुवार": time.Thursday, "बृहस्पतिवार": time.Thursday, "वीरवार": time.Thursday, "guruvar": time.Thursday, "guruvaar": time.Thursday, "guruwar": time.Thursday, "brihaspativar": time.Thursday, "veervar": time.Thursday, "virvar": time.Thursday,
	"शुक्रवार": time.Friday, "shukravar": time.Friday, "shukravaar": time.Friday, "shukrawar": time.Friday, "sukravar": time.Friday,
	"शनिवार": time.Saturday, "shanivar": time.Saturday, "shanivaar": time.Saturday, "shaniwar": time.Saturday,

	"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday,
	"jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday,

	"sonntag": time.Sunday, "montag": time.Monday, "dienstag": time.Tuesday, "mittwoch": time.Wednesday,
	"donnerstag": time.Thursday, "freitag": time.Friday, "samstag": time.Saturday, "sonnabend": time.Saturday,

	"dimanche": time.Sunday, "lundi": time.Monday, "mardi": time.Tuesday, "mercredi": time.Wednesday,
	"jeudi": time.Thursday, "vendredi": time.Friday, "samedi": time.Saturday,

	"segunda": time.Monday, "terca": time.Tuesday, "quarta": time.Wednesday, "quinta": time.Thursday, "sexta": time.Friday,
}
