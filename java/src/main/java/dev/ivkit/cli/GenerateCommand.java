package dev.ivkit.cli;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.Generator;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.Sampler;
import dev.ivkit.model.tokenizer.StreamingDecoder;
import dev.ivkit.model.tokenizer.Tokenizer;
import dev.ivkit.util.Torch;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ivkit generate}: streams only the generated text to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Generate text from a prompt (streams only the generated text).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "llama2.c .bin file or Hugging Face model directory")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer file (tok512.bin, tokenizer.bin, tokenizer.json); "
            + "default: next to the model")
    Path tokenizer;

    @Option(names = "--prompt", defaultValue = "", description = "prompt text (default: empty, generation starts at BOS)")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "nucleus sampling mass (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dtype", description = "fp32, bf16 or fp16 (default: the checkpoint's)")
    String dtype;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() {
        Torch.init();
        dev.ivkit.model.Device.parse(device).requireAvailable();  // before any file is read
        Sampler sampler = new Sampler(temperature, topP, seed);
        Path tokPath = tokenizer != null ? tokenizer : defaultTokenizer(model);
        try (Tokenizer tok = Tokenizer.load(tokPath);
             LlamaModel m = ModelOptions.loadModel(model, dtype, device)) {
            if (tok.vocabSize() > m.config().vocabSize()) {
                throw new InvalidArgumentException("tokenizer", tokPath + " has " + tok.vocabSize()
                        + " tokens but the model's vocabulary is " + m.config().vocabSize());
            }
            int[] ids = tok.encode(prompt, true);
            if (ids.length == 0) {
                throw new InvalidArgumentException("prompt", "encodes to no tokens and the tokenizer has no BOS");
            }
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            StreamingDecoder dec = tok.streamingDecoder(ids[ids.length - 1]);
            new Generator(m).generate(ids, maxNewTokens, sampler, id -> {
                if (id != tok.eosId() && id != tok.bosId()) {
                    out.print(dec.next(id));
                    out.flush();
                }
                return true;
            });
            out.print(dec.flush());
            out.println();
            out.flush();
        }
        return 0;
    }

    /** tokenizer.json in a model directory, else tokenizer.bin / tok*.bin beside a llama2.c file. */
    static Path defaultTokenizer(Path model) {
        return dev.ivkit.pipeline.ModelFiles.defaultTokenizer(model, "pass --tokenizer");
    }
}
