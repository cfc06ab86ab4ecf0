package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.IvkitException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both config layouts (transformers 4's rope_theta/rope_scaling, transformers 5's rope_parameters), every rope type,
 * head_dim, eos lists, dtype/torch_dtype, and the rule that a key that could change the numbers is never ignored.
 */
class HfConfigLayoutsTest {
    /** Llama-3.2-1B's values without the rope fields. */
    private static final String LLAMA = "\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, "
            + "\"attention_dropout\": 0.0, \"bos_token_id\": 128000, \"eos_token_id\": 128001, \"head_dim\": 64, "
            + "\"hidden_act\": \"silu\", \"hidden_size\": 2048, \"initializer_range\": 0.02, \"intermediate_size\": 8192, "
            + "\"max_position_embeddings\": 131072, \"mlp_bias\": false, \"model_type\": \"llama\", "
            + "\"num_attention_heads\": 32, \"num_hidden_layers\": 16, \"num_key_value_heads\": 8, \"pretraining_tp\": 1, "
            + "\"rms_norm_eps\": 1e-05, \"tie_word_embeddings\": true, \"use_cache\": true, \"vocab_size\": 128256";

    @TempDir
    Path dir;

    private ModelConfig parse(String fields) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{" + LLAMA + (fields.isEmpty() ? "" : ", " + fields) + "}");
        return HfConfig.read(dir);
    }

    private <T extends IvkitException> T fails(Class<T> type, String fields, String field) {
        T e = assertThrows(type, () -> parse(fields));
        assertTrue(e.getMessage().contains("config.json [" + field + "]"), "field " + field + " not named: " + e.getMessage());
        return e;
    }

    @Test
    void llama3InBothLayoutsIsTheSameConfig() throws IOException {
        ModelConfig v4 = parse("\"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, "
                + "\"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}, "
                + "\"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.45.0\"");
        ModelConfig v5 = parse("\"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0, \"factor\": 32.0, "
                + "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}, "
                + "\"dtype\": \"bfloat16\", \"transformers_version\": \"5.0.0\"");
        assertEquals(500000.0, v5.ropeTheta());
        assertEquals(new RopeScaling(32, 1, 4, 8192), v5.ropeScaling());
        assertEquals(v4, v5);
    }

    @Test
    void bothLayoutsTogetherMustAgree() throws IOException {
        String params = "\"rope_parameters\": {\"rope_type\": \"linear\", \"rope_theta\": 500000.0, \"factor\": 2.0}";
        ModelConfig c = parse(params + ", \"rope_theta\": 500000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}");
        assertEquals(RopeScaling.linear(2), c.ropeScaling());
        fails(ModelFormatException.class, params + ", \"rope_theta\": 10000.0", "rope_theta");
        fails(ModelFormatException.class, params + ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}", "rope_scaling");
        fails(ModelFormatException.class, "\"rope_scaling\": {\"type\": \"linear\", \"rope_type\": \"llama3\", \"factor\": 4.0}",
                "rope_scaling.type");
    }

    @Test
    void ropeTypes() throws IOException {
        assertNull(parse("\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}").ropeScaling());
        assertEquals(10000.0, parse("\"rope_scaling\": {\"rope_type\": \"default\"}").ropeTheta());
        assertEquals(RopeScaling.linear(4), parse("\"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}").ropeScaling());
        ModelConfig dyn = parse("\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}");
        assertNull(dyn.ropeScaling());
        assertEquals(131072, dyn.maxSeqLen(), "dynamic NTK is the default rope up to max_position_embeddings");
        ModelConfig dyn5 = parse("\"rope_parameters\": {\"rope_type\": \"dynamic\", \"rope_theta\": 10000.0, \"factor\": 2.0, "
                + "\"original_max_position_embeddings\": 4096}");
        assertEquals(4096, dyn5.maxSeqLen());
        // transformers 5 may key rope_parameters by layer type; equal entries are one setting
        ModelConfig nested = parse("\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"linear\", \"rope_theta\": 5.0e5, "
                + "\"factor\": 2.0}}");
        assertEquals(RopeScaling.linear(2), nested.ropeScaling());
        assertEquals(5e5, nested.ropeTheta());
    }

    @Test
    void unimplementedRopeTypesAndParametersFailNamingTheField() {
        fails(UnsupportedException.class, "\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1e6, \"factor\": 4.0}",
                "rope_parameters.rope_type");
        fails(UnsupportedException.class, "\"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 4.0}", "rope_scaling.rope_type");
        fails(UnsupportedException.class, "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0, \"mscale\": 0.7}",
                "rope_scaling.mscale");
        fails(UnsupportedException.class, "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1e4, "
                + "\"partial_rotary_factor\": 0.5}", "rope_parameters.partial_rotary_factor");
        fails(ModelFormatException.class, "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}",
                "rope_scaling.low_freq_factor");
        fails(ModelFormatException.class, "\"rope_scaling\": {\"factor\": 8.0}", "rope_scaling.rope_type");
        fails(ModelFormatException.class, "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": -1}", "rope_scaling");
        fails(UnsupportedException.class, "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\", \"rope_theta\": 1e4}, "
                + "\"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": 1e6}}", "rope_parameters.sliding_attention");
    }

    @Test
    void keysThatCouldChangeTheNumbersAreNeverIgnored() throws IOException {
        UnsupportedException e = fails(UnsupportedException.class, "\"attn_logit_softcapping\": 50.0", "attn_logit_softcapping");
        assertTrue(e.getMessage().contains(HfConfigKeys.IGNORE_PROPERTY), e.getMessage());
        fails(UnsupportedException.class, "\"partial_rotary_factor\": 0.5", "partial_rotary_factor");
        fails(UnsupportedException.class, "\"attention_dropout\": 0.1", "attention_dropout");
        fails(UnsupportedException.class, "\"quantization_config\": {\"quant_method\": \"gptq\"}", "quantization_config");
        fails(UnsupportedException.class, "\"use_mrope\": true", "use_mrope");
        System.setProperty(HfConfigKeys.IGNORE_PROPERTY, "attn_logit_softcapping");
        try {
            assertEquals(2048, parse("\"attn_logit_softcapping\": 50.0").dModel());
        } finally {
            System.clearProperty(HfConfigKeys.IGNORE_PROPERTY);
        }
        assertEquals(64, parse("\"partial_rotary_factor\": 1.0, \"pad_token_id\": 0, \"_name_or_path\": \"x\"").headDim());
    }

    @Test
    void headDimEosListsAndDtype() throws IOException {
        ModelConfig c = parse("\"eos_token_id\": [128001, 128008, 128009], \"dtype\": \"bfloat16\"");
        assertEquals(List.of(128001, 128008, 128009), c.eosIds());
        assertEquals(128001, c.eosId());
        assertTrue(c.isEos(128009));
        // head_dim 128 with 32 heads of a 2048-wide model (Qwen3-style widths): the field wins over hidden/heads
        assertEquals(128, parse("\"head_dim\": 128").headDim());
        fails(ModelFormatException.class, "\"dtype\": \"bfloat16\", \"torch_dtype\": \"float16\"", "dtype");
        fails(ModelFormatException.class, "\"torch_dtype\": \"int4\"", "torch_dtype");
        fails(ModelFormatException.class, "\"eos_token_id\": [128001, \"x\"]", "eos_token_id");
    }
}
