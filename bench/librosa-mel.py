"""librosa's melspectrogram timed on the same inputs as bench/mel.ts (make bench runs it in the
same run). Prints one JSON object: {"version": ..., "cases": {"<secs>@<sr>": [ms, ...]}}."""
import json, sys, time
import numpy as np
import librosa

cases = {}
for secs, sr in [(10, 16000), (60, 44100), (600, 16000)]:
    x = (np.round((np.random.default_rng(1).random(secs * sr) - 0.5) * 65535) / 32768).astype(np.float32)
    mel = lambda: librosa.feature.melspectrogram(y=x, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    for _ in range(3):
        mel()
    times = []
    for _ in range(7 if secs >= 600 else 15 if secs >= 60 else 50):
        t = time.perf_counter()
        mel()
        times.append((time.perf_counter() - t) * 1000)
    cases[f"{secs}@{sr}"] = times
json.dump({"version": librosa.__version__, "numpy": np.__version__, "cases": cases}, sys.stdout)
