package dev.ivkit.organism;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.ivkit.ModelFormatException;
import dev.ivkit.data.TaskExample;
import dev.ivkit.data.prompt.Prompt;
import dev.ivkit.model.GreedyDecoder;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.model.ModelReplicas;
import dev.ivkit.model.io.HfCheckpoint;
import dev.ivkit.model.io.HfConfig;
import dev.ivkit.model.tokenizer.CharTokenizer;
import dev.ivkit.util.AtomicFiles;
import dev.ivkit.kernels.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.pytorch.global.torch;

/**
 * The model organism: a small Llama that ivkit pretrains on its own {@link SyntheticTasks}, cached in Hugging Face
 * layout ({@code config.json}, {@code model.safetensors}, {@code organism_tokenizer.json}) plus {@value #INFO_FILE}
 * (recipe, training time, per-task accuracies; written last, so its presence marks a complete organism). The default
 * folder is {@code $IVKIT_CACHE/organism-v4}, or {@code ~/.cache/ivkit/organism-v4} without {@code IVKIT_CACHE}.
 * {@link #loadOrTrain} retrains it (deterministically, from the recipe) when absent.
 */
public final class Organism implements AutoCloseable {
    public static final String INFO_FILE = "organism.json";
    public static final String VERSION = "organism-v4";
    /** Held-out queries per task in the stored evaluation. */
    public static final int EVAL_PER_TASK = 100;
    /** Demonstrations in the few-shot evaluation. */
    public static final int SHOTS = 5;
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    /** Accuracies of one task (greedy exact match on held-out queries). */
    public record TaskScores(String task, SyntheticTasks.Kind kind, boolean pretrain, double fewShot, double instruction,
            double bare) {}

    /** What {@value #INFO_FILE} holds. */
    public record Info(String version, OrganismConfig config, int steps, double trainSeconds, double finalLoss,
            int evalPerTask, long evalSeed, List<TaskScores> scores) {}

    private final Path dir;
    private final LlamaModel model;
    private final CharTokenizer tokenizer;
    private final SyntheticTasks tasks;
    private final Info info;

    private Organism(Path dir, LlamaModel model, CharTokenizer tokenizer, SyntheticTasks tasks, Info info) {
        this.dir = dir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.tasks = tasks;
        this.info = info;
    }

    /** {@code $IVKIT_CACHE/organism-v4}, else {@code ${user.home}/.cache/ivkit/organism-v4}. */
    public static Path defaultDir() {
        String env = System.getenv("IVKIT_CACHE");
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "ivkit");
        return root.resolve(VERSION);
    }

    /** Whether {@code dir} holds a complete organism. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(INFO_FILE)) && Files.isRegularFile(dir.resolve(HfConfig.FILE_NAME))
                && Files.isRegularFile(dir.resolve(HfCheckpoint.WEIGHTS)) && Files.isRegularFile(dir.resolve(CharTokenizer.FILE_NAME));
    }

    /** The stored info of a complete organism. */
    public static Info readInfo(Path dir) {
        Path f = dir.resolve(INFO_FILE);
        try {
            return GSON.fromJson(Files.readString(f), Info.class);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(f, null, "cannot read the organism info: " + e.getMessage(), e);
        }
    }

    /** Loads a complete organism through the ordinary model and tokenizer loaders, on the CPU. */
    public static Organism load(Path dir) {
        return load(dir, null);
    }

    /**
     * Loads a complete organism with its model on {@code device} (null: the CPU).
     *
     * @param dir    the organism folder
     * @param device where the model goes
     * @return the organism
     */
    public static Organism load(Path dir, dev.ivkit.model.Device device) {
        if (!exists(dir)) {
            throw new ModelFormatException(dir, null, "no complete organism here (run `ivkit organism train`)");
        }
        Info info = readInfo(dir);
        LlamaModel model = ModelLoader.load(dir, torch.ScalarType.Float, device, null);
        CharTokenizer tok = CharTokenizer.load(dir);
        return new Organism(dir, model, tok, new SyntheticTasks(info.config().taskSeed()), info);
    }

    /** Loads the organism in {@code dir}; trains it there first when absent or of another recipe. */
    public static Organism loadOrTrain(Path dir, OrganismConfig cfg) {
        if (!exists(dir) || !cfg.equals(readInfo(dir).config())) {
            train(dir, cfg, 0);
        }
        return load(dir);
    }

    /**
     * Pretrains into {@code dir} (resuming an interrupted run of the same recipe), evaluates every task and writes
     * {@value #INFO_FILE}.
     *
     * @param minutes when &gt; 0, choose the step count to train for about this long (see {@link OrganismTrainer#train})
     */
    public static Info train(Path dir, OrganismConfig cfg, double minutes) {
        try {
            Files.deleteIfExists(dir.resolve(INFO_FILE));
        } catch (IOException e) {
            throw new dev.ivkit.IvkitException("cannot replace " + dir.resolve(INFO_FILE) + ": " + e.getMessage(), e);
        }
        OrganismTrainer trainer = new OrganismTrainer(cfg);
        OrganismTrainer.Result r = trainer.train(dir, minutes, -1);
        long evalSeed = 99;
        List<TaskScores> scores;
        try (LlamaModel model = ModelLoader.load(dir, torch.ScalarType.Float)) {
            scores = evaluate(model, trainer.tokenizer(), trainer.tasks(), EVAL_PER_TASK, evalSeed);
        }
        Info info = new Info(VERSION, cfg.withSteps(r.steps()), r.steps(), r.seconds(), r.finalLoss(), EVAL_PER_TASK, evalSeed, scores);
        AtomicFiles.writeString(dir.resolve(INFO_FILE), GSON.toJson(info) + "\n");
        return info;
    }

    public Path dir() {
        return dir;
    }

    public LlamaModel model() {
        return model;
    }

    public CharTokenizer tokenizer() {
        return tokenizer;
    }

    public SyntheticTasks tasks() {
        return tasks;
    }

    public Info info() {
        return info;
    }

    @Override
    public void close() {
        model.close();
    }

    // ------------------------------------------------------------------------------------------------ evaluation

    /**
     * Per task: 5-shot, instruction 0-shot and bare 0-shot accuracy — greedy exact match on {@code perTask} queries from
     * the test split (demonstrations from the train split).
     */
    public static List<TaskScores> evaluate(LlamaModel model, CharTokenizer tok, SyntheticTasks tasks, int perTask, long seed) {
        try (ModelReplicas replicas = new ModelReplicas(model)) {   // tasks on parallel threads (Parallel), in task order
            return Parallel.map(tasks.tasks(), null, SyntheticTasks.Task::name, t -> evaluate(replicas.get(), tok, tasks, t, perTask, seed));
        }
    }

    private static TaskScores evaluate(LlamaModel model, CharTokenizer tok, SyntheticTasks tasks, SyntheticTasks.Task t, int perTask,
            long seed) {
        List<TaskExample> queries = tasks.dataset(t, true, perTask, seed).examples();
        List<TaskExample> pool = tasks.dataset(t, false, 64, seed).examples();
        Random r = new Random(SyntheticTasks.mix(seed, t.name().hashCode()));
        List<Prompt> few = new ArrayList<>(), instr = new ArrayList<>(), bare = new ArrayList<>();
        for (TaskExample q : queries) {
            few.add(SyntheticTasks.fewShot(sample(pool, SHOTS, r), q));
            instr.add(SyntheticTasks.instruction(t, q));
            bare.add(SyntheticTasks.bare(q));
        }
        return new TaskScores(t.name(), t.kind(), t.pretrain(), accuracy(model, tok, few), accuracy(model, tok, instr),
                accuracy(model, tok, bare));
    }

    private static List<TaskExample> sample(List<TaskExample> pool, int k, Random r) {
        List<TaskExample> copy = new ArrayList<>(pool);
        java.util.Collections.shuffle(copy, r);
        return copy.subList(0, Math.min(k, copy.size()));
    }

    /** Exact-match accuracy of greedy answers (generated up to the first newline). */
    public static double accuracy(LlamaModel model, CharTokenizer tok, List<Prompt> prompts) {
        return accuracy(model, tok, prompts, null);
    }

    /**
     * Exact-match accuracy of greedy answers (up to the first newline, at most {@code MAX_ANSWER + 1} tokens), with
     * {@code iv} (null: none) added as {@link GreedyDecoder} does; NaN without prompts.
     */
    public static double accuracy(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, GreedyDecoder.ResidualIv iv) {
        List<String> answers = greedy(model, tok, prompts, SyntheticTasks.MAX_ANSWER + 1, iv);
        int ok = 0;
        for (int i = 0; i < prompts.size(); i++) {
            if (answers.get(i).equals(prompts.get(i).target())) {
                ok++;
            }
        }
        return prompts.isEmpty() ? Double.NaN : (double) ok / prompts.size();
    }

    /**
     * Greedy answers of many prompts in left-padded batches: each answer is the text generated before the first
     * newline (or all {@code maxNew} tokens).
     */
    public static List<String> greedy(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, int maxNew) {
        return greedy(model, tok, prompts, maxNew, null);
    }

    /**
     * Greedy answers as {@link #greedy(LlamaModel, CharTokenizer, List, int)}, with {@code iv} (null: none) added after
     * its layer at the last prompt token and, in every-token mode, at every generated token ({@link GreedyDecoder}).
     */
    public static List<String> greedy(LlamaModel model, CharTokenizer tok, List<Prompt> prompts, int maxNew,
            GreedyDecoder.ResidualIv iv) {
        List<int[]> ids = new ArrayList<>();
        for (Prompt p : prompts) {
            ids.add(tok.encode(p.text(), true));
        }
        List<String> out = new ArrayList<>();
        for (int[] answer : new GreedyDecoder(model, tok.padId(), tok.id(SyntheticTasks.END)).decode(ids, maxNew, iv)) {
            StringBuilder sb = new StringBuilder();
            for (int id : answer) {
                sb.append(tok.decode(new int[] {id}));
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** Mean of a score over tasks selected by kind (null = all) among the pretraining tasks. */
    public static double mean(List<TaskScores> scores, SyntheticTasks.Kind kind, java.util.function.ToDoubleFunction<TaskScores> f) {
        return scores.stream().filter(TaskScores::pretrain).filter(s -> kind == null || s.kind() == kind).mapToDouble(f).average()
                .orElse(Double.NaN);
    }
}
