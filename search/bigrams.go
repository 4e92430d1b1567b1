package search

import "math"

// bigramIDF weighs character bigrams by how rare they are in the KB's
// questions. Character bigrams see past the segmenter: 流鼻涕 and 鼻涕,
// 肺气肿 and 气肿 share bigrams even where their words differ, and the
// weights keep 肺炎, in every question of a lung KB, from counting as much
// as 胸膜.
//
// The index keeps document frequencies of words, not of bigrams, so a
// bigram's frequency is estimated from them: a question holding a word
// holds every bigram inside it, so the largest frequency of a word
// containing the bigram is a lower bound, and a close one, as most
// bigrams of Chinese words are words themselves or sit inside few words.
// A bigram inside no word (across a word boundary) counts as rare: shared,
// it means both texts run the same two words together. Single characters
// are estimated the same way and kept in the same table (charOf).
type bigramIDF struct {
	docs int
	df   map[uint64]int // by bigramOf
}

// weight is the idf of bigram (or of a character, charOf), in the same
// form as word idf (weigh).
func (b *bigramIDF) weight(bigram uint64) float64 {
	df := b.df[bigram]
	return math.Log(1 + (float64(b.docs)-float64(df)+0.5)/(float64(df)+0.5))
}

// estimateBigrams derives bigram document frequencies from word ones.
func estimateBigrams(stats *termStats) *bigramIDF {
	t := &bigramIDF{docs: stats.docs, df: make(map[uint64]int, 2*len(stats.df))}
	for term, df := range stats.df {
		runes := []rune(term)
		for _, r := range runes {
			c := charOf(r)
			t.df[c] = max(t.df[c], df)
		}
		for i := 0; i+1 < len(runes); i++ {
			b := bigramOf(runes[i], runes[i+1])
			t.df[b] = max(t.df[b], df)
		}
	}
	return t
}

// charOf packs one character as bigramOf would a bigram starting with the
// character 0, which no text holds, so characters and bigrams share a table.
func charOf(r rune) uint64 { return bigramOf(0, r) }
