package kb

// SmallTalkWords lets the external tests ask every small-talk word through
// a real segmenter.
var SmallTalkWords = smallTalkWords
