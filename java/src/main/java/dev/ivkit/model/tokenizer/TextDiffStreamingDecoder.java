package dev.ivkit.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Streaming decoder for tokenizers that only decode whole id sequences to text (Hugging Face): decodes a short
 * window of recent ids and emits the new suffix, holding back while the text ends in U+FFFD (an incomplete
 * multi-byte character).
 */
final class TextDiffStreamingDecoder implements StreamingDecoder {
    private static final char REPLACEMENT = '\uFFFD';
    private static final int MAX_WINDOW = 16;

    private final Tokenizer tokenizer;
    /** Context ids (already emitted) followed by pending ids. */
    private final List<Integer> window = new ArrayList<>();
    /** Decoded text of the context part of the window. */
    private String emitted;

    TextDiffStreamingDecoder(Tokenizer tokenizer, int prevId) {
        this.tokenizer = tokenizer;
        if (prevId >= 0) {
            window.add(prevId);
        }
        emitted = decodeWindow();
    }

    @Override
    public String next(int id) {
        window.add(id);
        String text = decodeWindow();
        if (!text.isEmpty() && text.charAt(text.length() - 1) == REPLACEMENT && window.size() < MAX_WINDOW) {
            return "";
        }
        return emit(text);
    }

    @Override
    public String flush() {
        // nothing fed and no context: nothing to emit (and no id to keep as context)
        return window.isEmpty() ? "" : emit(decodeWindow());
    }

    private String emit(String text) {
        String out = text.startsWith(emitted) ? text.substring(emitted.length()) : text.substring(Math.min(emitted.length(), text.length()));
        // keep only the last id as context for the next piece (leading-space handling depends on it)
        int last = window.get(window.size() - 1);
        window.clear();
        window.add(last);
        emitted = decodeWindow();
        return out;
    }

    private String decodeWindow() {
        int[] ids = new int[window.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = window.get(i);
        }
        return ids.length == 0 ? "" : tokenizer.decode(ids);
    }
}
