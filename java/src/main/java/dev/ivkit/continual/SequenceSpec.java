package dev.ivkit.continual;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.IvkitException;
import dev.ivkit.KlDirection;
import dev.ivkit.train.IvGuidedRegulariser;
import dev.ivkit.train.ReferenceOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A continual-learning study as JSON (snake_case keys; every field but {@code tasks} has a default). Data paths are
 * relative to a data root (the CLI's {@code --data-root}, default {@code ../shared/data}). The paper's three SuperNI
 * orders ship as resources: {@link #builtin(String) builtin("seq0" | "seq1" | "seq2")}.
 *
 * <pre>
 * { "name": "seq1", "prompt": "superni" | "io", "instructions": "superni/sapo/instructions.json",
 *   "train_cap": 1000, "test_cap": 110, "iv_prompts": 16, "probe_cap": 16,
 *   "max_input_chars": 2000, "max_target_tokens": 128,
 *   "tasks": [ { "id": 195, "name": "task195_sentiment140_classification",
 *                "train": {"format": "sapo", "path": "superni/sapo/task195_…", "split": "train"},
 *                "test":  {"format": "sapo", "path": "superni/sapo/task195_…", "split": "test"},
 *                "metric": "first_token" | "em" | "rouge_l", "max_new_tokens": 6,
 *                "train_cap": null, "test_cap": null, "note": "…" } ],
 *   "methods": ["naive", "iv-guided", "lwf", "ewc", "replay", "olora"], "seeds": [1],
 *   "hyper": { … see {@link Hyper} … }, "general": { … see {@link General} … } }
 * </pre>
 * Source formats: {@code sapo} (SAPO folder + split) or {@code superni} (one file in the original SuperNI schema,
 * e.g. SAPT's {@code full_subsets/…/train.json}).
 */
public final class SequenceSpec {
    public static final Gson GSON = new GsonBuilder().setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .setPrettyPrinting().disableHtmlEscaping().create();

    /** Where one split comes from. */
    public static final class Source {
        public String format = "sapo";
        public String path;
        public String split;
    }

    public static final class Task {
        public int id;
        public String name;
        public Source train;
        public Source test;
        public String metric = "first_token";
        public int maxNewTokens = 6;
        public Integer trainCap;
        public Integer testCap;
        public String note;

        public int trainCap(SequenceSpec s) {
            return trainCap != null ? trainCap : s.trainCap;
        }

        public int testCap(SequenceSpec s) {
            return testCap != null ? testCap : s.testCap;
        }
    }

    /** Training and method hyper-parameters. */
    public static final class Hyper {
        public double lr = 1e-4;
        public int epochs = 1;
        public int batchSize = 4;
        public int gradAccum = 2;
        public double clipNorm = 1.0;
        public int loraRank = 8;
        public double loraAlpha = 16;
        public double loraDropout = 0.1;
        public List<String> loraTargets = List.of("q_proj", "v_proj");
        /** IV: heads in the vector, layer where it is added (-1 = nLayers / 3). */
        public int ivHeads = 10;
        public int ivLayer = -1;
        /** IV-guided and LwF KL weights and temperature; head preservation (IV-guided only). */
        public double alpha1 = 1.0;
        public double alpha2 = 0.1;
        public double alphaPr = 1.0;
        public double temperature = 2.0;
        public double ewcLambda = 100.0;
        public int ewcExamples = 32;
        public int replayPerTask = 64;
        public double replayRatio = 0.2;
        public double oloraLambda = 0.5;
        /**
         * The KL regularisers' reference cache: off, exact or a top-k size (ReferenceOptions; README); null = off.
         * Unset fields stay out of the spec's JSON, so specs without them keep their fingerprint (resumable runs).
         */
        public String referenceCache;
        /** Precision of their reference GEMMs: full or reduced; null = full. */
        public String referencePrecision;

        /** The regularisers of these settings (IV added at attn_out, the authors' reverse KL). */
        public RegulariserFactory regularisers() {
            return new RegulariserFactory(alpha1, alpha2, alphaPr, temperature, KlDirection.REVERSE,
                    IvGuidedRegulariser.Site.ATTN_OUT, ewcLambda, oloraLambda,
                    ReferenceOptions.cacheTopK(referenceCache == null ? "off" : referenceCache, "hyper.reference_cache"),
                    ReferenceOptions.precision(referencePrecision == null ? "full" : referencePrecision, "hyper.reference_precision"));
        }
    }

    /** Multiple-choice general-capability sets (paths relative to the data root; 0 = skip a set). */
    public static final class General {
        public int hellaswag = 100;
        public int boolq = 100;
        public int copa = 100;
        public int maxContextChars = 1500;
        public boolean everyTask = true;
        public String hellaswagPath = "general_eval/hellaswag/hellaswag_val_first1000.jsonl";
        public String boolqPath = "general_eval/superglue_from_sapt/boolq/test.json";
        public String copaPath = "general_eval/superglue_from_sapt/copa/test.json";
    }

    public String name = "sequence";
    public String description;
    public String prompt = "superni";
    public String instructions = "superni/sapo/instructions.json";
    public int trainCap = 1000;
    public int testCap = 110;
    public int ivPrompts = 16;
    public int probeCap = 16;
    public int maxInputChars = 2000;
    public int maxTargetTokens = 128;
    /** Also sweep the base IV over every layer (first-token accuracy) for the report; costs layers × test_cap passes. */
    public boolean layerSweep = true;
    public List<Task> tasks = new ArrayList<>();
    public List<String> methods = new ArrayList<>(List.of("naive", "iv-guided", "lwf", "ewc", "replay", "olora"));
    public List<Long> seeds = new ArrayList<>(List.of(1L));
    public Hyper hyper = new Hyper();
    public General general = new General();

    public static SequenceSpec parse(String json, String where) {
        SequenceSpec s;
        try {
            s = GSON.fromJson(json, SequenceSpec.class);
        } catch (RuntimeException e) {
            throw new InvalidArgumentException("spec", where + " is not a valid sequence spec: " + e.getMessage());
        }
        if (s == null) {
            throw new InvalidArgumentException("spec", where + " is empty");
        }
        s.validate(where);
        return s;
    }

    public static SequenceSpec load(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new InvalidArgumentException("spec", "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** One of the shipped orders: seq0, seq1, seq2. */
    public static SequenceSpec builtin(String name) {
        try (InputStream in = SequenceSpec.class.getResourceAsStream(name + ".json")) {
            if (in == null) {
                throw new InvalidArgumentException("spec", "no built-in sequence '" + name + "' (seq0, seq1, seq2)");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "builtin:" + name);
        } catch (IOException e) {
            throw new IvkitException("cannot read built-in sequence " + name + ": " + e.getMessage(), e);
        }
    }

    /** {@code builtin:NAME} or a file path. */
    public static SequenceSpec resolve(String ref) {
        return ref.startsWith("builtin:") ? builtin(ref.substring("builtin:".length())) : load(Path.of(ref));
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public SequenceSpec copy() {
        return parse(toJson(), name);
    }

    void validate(String where) {
        if (tasks == null || tasks.isEmpty()) {
            throw new InvalidArgumentException("spec", where + ": no tasks");
        }
        if (!"superni".equals(prompt) && !"io".equals(prompt)) {
            throw new InvalidArgumentException("spec", where + ": prompt must be superni or io, got " + prompt);
        }
        if (trainCap <= 0 || testCap <= 0 || ivPrompts <= 0 || probeCap <= 0 || maxTargetTokens <= 0) {
            throw new InvalidArgumentException("spec", where + ": caps must be positive");
        }
        for (Task t : tasks) {
            if (t.name == null || t.train == null || t.test == null || t.train.path == null || t.test.path == null) {
                throw new InvalidArgumentException("spec", where + ": every task needs name, train.path and test.path");
            }
            if (!List.of("first_token", "em", "rouge_l").contains(t.metric)) {
                throw new InvalidArgumentException("spec", where + ": task " + t.name + ": metric must be first_token, em or rouge_l");
            }
            if (!"first_token".equals(t.metric) && t.maxNewTokens < 1) {
                throw new InvalidArgumentException("spec", where + ": task " + t.name + ": metric " + t.metric
                        + " scores generated text and needs max_new_tokens >= 1, got " + t.maxNewTokens);
            }
            for (Source s : List.of(t.train, t.test)) {
                if (!"sapo".equals(s.format) && !"superni".equals(s.format)) {
                    throw new InvalidArgumentException("spec", where + ": task " + t.name + ": source format must be sapo or superni");
                }
                if ("sapo".equals(s.format) && s.split == null) {
                    throw new InvalidArgumentException("spec", where + ": task " + t.name + ": a sapo source needs a split");
                }
            }
        }
        for (String m : methods) {
            Method.parse(m);
        }
        if (hyper == null) {
            throw new InvalidArgumentException("spec", where + ": hyper must be an object");
        }
        hyper.regularisers();   // a bad reference_cache / reference_precision fails here, naming the field
    }
}
