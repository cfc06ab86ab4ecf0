package dev.ivkit.model.tokenizer;

/**
 * Turns generated token ids, one at a time, into text, emitting only complete characters: a UTF-8 character whose
 * bytes are spread over several tokens (byte-fallback or byte-level BPE) is held back until it is complete. Not
 * thread-safe; one instance per generated sequence. Obtain one from {@link Tokenizer#streamingDecoder(int)}.
 */
public interface StreamingDecoder {

    /**
     * Feeds the next generated id; returns the text that became complete (possibly empty, never null).
     *
     * @param id the next generated token
     * @return the newly completed text
     */
    String next(int id);

    /**
     * Ends the stream: returns whatever is still held back (an incomplete character comes out as U+FFFD) and
     * clears the pending state.
     *
     * @return the held-back text
     */
    String flush();
}
