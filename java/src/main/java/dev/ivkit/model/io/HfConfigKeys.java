package dev.ivkit.model.io;

import dev.ivkit.UnsupportedException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Which top-level {@code config.json} keys ivkit reads, which it knows to leave the model's numbers alone, and what
 * happens to the rest: any other key is an {@link UnsupportedException} naming it, since ivkit cannot tell whether it
 * changes the computation (README, "config.json keys"). A user who knows a key is harmless lists it in the system
 * property {@value #IGNORE_PROPERTY} or the environment variable {@value #IGNORE_ENV} (comma-separated).
 */
final class HfConfigKeys {
    static final String IGNORE_PROPERTY = "ivkit.config.ignore";
    static final String IGNORE_ENV = "IVKIT_CONFIG_IGNORE";

    /** Keys that {@link HfConfig} reads and checks. */
    static final Set<String> READ = Set.of("model_type", "architectures", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size",
            "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
            "tie_word_embeddings", "attention_bias", "mlp_bias", "hidden_act", "sliding_window", "use_sliding_window",
            "max_window_layers", "layer_types", "bos_token_id", "eos_token_id", "torch_dtype", "dtype",
            "attention_dropout", "partial_rotary_factor", "pretraining_tp", "use_mrope", "quantization_config");

    /**
     * Keys that do not change a forward pass: bookkeeping, generation defaults, tokenizer hints, training-only
     * settings of other libraries. {@code pretraining_tp} is read (it splits transformers' matmuls into slices,
     * the same product), {@code attention_dropout} must be 0.
     */
    static final Set<String> HARMLESS = Set.of("transformers_version", "_name_or_path", "name_or_path", "use_cache",
            "initializer_range", "pad_token_id", "sep_token_id", "decoder_start_token_id", "torchscript",
            "output_attentions", "output_hidden_states", "return_dict", "id2label", "label2id", "num_labels",
            "problem_type", "finetuning_task", "tokenizer_class", "prefix", "task_specific_params",
            "chunk_size_feed_forward", "is_decoder", "is_encoder_decoder", "add_cross_attention",
            "cross_attention_hidden_size", "tie_encoder_decoder", "pruned_heads", "use_bfloat16", "tf_legacy_loss",
            "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups",
            "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
            "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
            "num_return_sequences", "output_scores", "return_dict_in_generate", "forced_bos_token_id",
            "forced_eos_token_id", "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
            "begin_suppress_tokens", "output_router_logits", "_attn_implementation_autoset", "model_name",
            "gradient_checkpointing", "keys_to_ignore_at_inference");

    private HfConfigKeys() {}

    /** Throws for the first key (in sorted order) that is neither read, harmless nor ignored by the user. */
    static void check(Path file, Set<String> keys) {
        Set<String> ignored = userIgnored();
        TreeSet<String> unknown = keys.stream().filter(k -> !READ.contains(k) && !HARMLESS.contains(k) && !ignored.contains(k))
                .collect(Collectors.toCollection(TreeSet::new));
        if (!unknown.isEmpty()) {
            String key = unknown.first();
            throw new UnsupportedException(file + " [" + key + "]: unknown config key '" + key + "'"
                    + (unknown.size() > 1 ? " (and " + (unknown.size() - 1) + " more: " + String.join(", ", unknown.tailSet(key, false)) + ")" : "")
                    + ": ivkit cannot tell whether it changes the model's numbers, so it refuses the config; if it does not, "
                    + "list it in -D" + IGNORE_PROPERTY + "=KEY,... or " + IGNORE_ENV + "=KEY,...");
        }
    }

    private static Set<String> userIgnored() {
        String p = System.getProperty(IGNORE_PROPERTY);
        String e = System.getenv(IGNORE_ENV);
        String all = (p == null ? "" : p) + "," + (e == null ? "" : e);
        return Arrays.stream(all.split(",")).map(String::strip).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }
}
