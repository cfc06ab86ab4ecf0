package dev.ivkit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.model.ModelConfig;
import dev.ivkit.model.RopeScaling;
import dev.ivkit.model.RopeStyle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-written config.json files (values of Llama-3.2-1B, Mistral-7B-v0.1 and Qwen2-0.5B). */
class HfConfigTest {
    @TempDir
    Path dir;

    private ModelConfig parse(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return HfConfig.read(dir);
    }

    @Test
    void llama3WithRopeScaling() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
                 "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
                 "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
                 "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
                 "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
                 "rms_norm_eps": 1e-05,
                 "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
                 "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}
                """);
        assertEquals("llama", c.architecture());
        assertEquals(2048, c.dModel());
        assertEquals(8192, c.hiddenDim());
        assertEquals(16, c.nLayers());
        assertEquals(32, c.nHeads());
        assertEquals(8, c.nKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(128256, c.vocabSize());
        assertEquals(131072, c.maxSeqLen());
        assertEquals(1e-5, c.normEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(RopeStyle.HALF, c.ropeStyle());
        assertEquals(new RopeScaling(32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertTrue(c.tiedEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals(128000, c.bosId());
        assertEquals(128001, c.eosId());
    }

    @Test
    void mistralDefaultsAndSlidingWindow() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
                 "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
                 "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
                 "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
                 "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 32000}
                """);
        assertEquals("mistral", c.architecture());
        assertEquals(4096, c.dModel());
        assertEquals(14336, c.hiddenDim());
        assertEquals(32, c.nLayers());
        assertEquals(32, c.nHeads());
        assertEquals(8, c.nKvHeads());
        assertEquals(128, c.headDim()); // default hidden / heads
        assertEquals(32000, c.vocabSize());
        assertEquals(4096, c.maxSeqLen()); // capped at the sliding window
        assertEquals(1e-5, c.normEps());
        assertEquals(10000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertFalse(c.tiedEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals(1, c.bosId());
        assertEquals(2, c.eosId());
    }

    @Test
    void qwen2HasQkvBias() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
                 "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
                 "intermediate_size": 4864, "max_position_embeddings": 131072, "max_window_layers": 24,
                 "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
                 "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 131072,
                 "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
                 "use_sliding_window": false, "vocab_size": 151936}
                """);
        assertEquals("qwen2", c.architecture());
        assertEquals(896, c.dModel());
        assertEquals(4864, c.hiddenDim());
        assertEquals(24, c.nLayers());
        assertEquals(14, c.nHeads());
        assertEquals(2, c.nKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(151936, c.vocabSize());
        assertEquals(131072, c.maxSeqLen());
        assertEquals(1e-6, c.normEps());
        assertEquals(1e6, c.ropeTheta());
        assertTrue(c.tiedEmbeddings());
        assertTrue(c.attentionBias());
        assertEquals(151643, c.bosId());
        assertEquals(151643, c.eosId());
    }

    @Test
    void defaultsAndArchitectureFallback() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "model_type": "my-llama-fork", "hidden_size": 64,
                 "intermediate_size": 172, "num_hidden_layers": 5, "num_attention_heads": 8, "vocab_size": 512,
                 "max_position_embeddings": 512, "rope_scaling": {"type": "llama3", "factor": 8,
                 "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 256}}
                """);
        assertEquals("llama", c.architecture());
        assertEquals(8, c.nKvHeads());
        assertEquals(8, c.headDim());
        assertEquals(1e-6, c.normEps());
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tiedEmbeddings());
        assertEquals(new RopeScaling(8, 1, 4, 256), c.ropeScaling());
        assertEquals(-1, c.bosId());
        assertEquals(-1, c.eosId());
    }

    @Test
    void unsupportedSettingsAreTyped() throws IOException {
        String base = "\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 172, \"num_hidden_layers\": 5,"
                + " \"num_attention_heads\": 8, \"vocab_size\": 512, \"max_position_embeddings\": 512";
        UnsupportedException e = assertThrows(UnsupportedException.class,
                () -> parse("{" + base + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}"));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("yarn"), e.getMessage());
        e = assertThrows(UnsupportedException.class, () -> parse("{" + base + ", \"attention_bias\": true}"));
        assertTrue(e.getMessage().contains("attention_bias"), e.getMessage());
        e = assertThrows(UnsupportedException.class,
                () -> parse("{" + base.replace("\"llama\"", "\"gpt2\"") + ", \"architectures\": [\"GPT2LMHeadModel\"]}"));
        assertTrue(e.getMessage().contains("gpt2"), e.getMessage());
        ModelFormatException f = assertThrows(ModelFormatException.class,
                () -> parse("{" + base.replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": \"five\"") + "}"));
        assertEquals("num_hidden_layers", f.field());
        assertTrue(f.getMessage().contains("config.json"), f.getMessage());
        f = assertThrows(ModelFormatException.class, () -> parse("{" + base + ", \"num_key_value_heads\": 3}"));
        assertTrue(f.getMessage().contains("config.json") && f.getMessage().contains("nKvHeads"), f.getMessage());
    }

    @Test
    void writeThenReadIsTheSameConfig() throws IOException {
        ModelConfig llama = new ModelConfig("llama", 64, 172, 5, 8, 2, 8, 512, 1024, 1e-5, 500000.0, RopeStyle.HALF,
                new RopeScaling(32.0, 1.0, 4.0, 8192), true, false, 1, 2);
        HfConfig.write(dir, llama, ScalarType.BFloat16);
        assertEquals(llama, HfConfig.read(dir));
        JsonObject o = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
        assertEquals("LlamaForCausalLM", o.getAsJsonArray("architectures").get(0).getAsString());
        assertEquals("llama", o.get("model_type").getAsString());
        assertEquals("bfloat16", o.get("torch_dtype").getAsString());
        assertEquals("llama3", o.getAsJsonObject("rope_scaling").get("rope_type").getAsString());
        assertEquals("silu", o.get("hidden_act").getAsString());

        ModelConfig qwen = new ModelConfig("qwen2", 64, 172, 5, 8, 2, 8, 512, 1024, 1e-6, 1e6, RopeStyle.HALF, null,
                false, true, -1, 7);
        HfConfig.write(dir, qwen);
        assertEquals(qwen, HfConfig.read(dir));
        assertThrows(InvalidArgumentException.class, () -> HfConfig.write(dir, llama.withRopeStyle(RopeStyle.INTERLEAVED)));
    }
}
