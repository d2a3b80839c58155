#!/usr/bin/env python3
"""Generates Tests/ImagingTests/Resources: test images and Pillow / Hugging Face reference outputs.

Oracles: Pillow decodes every image (`Image.open(...).convert("RGB")`) and resizes (`Image.resize`), and
transformers' CLIP / SigLIP image processors (PIL backend) compute `pixel_values`. PNGs are written by a small
encoder here so that every color type, bit depth, filter type, interlacing and deflate block type occurs.

Usage: pip install pillow numpy transformers && python3 scripts/make-imaging-fixtures.py
"""
import io, json, os, struct, sys, zlib
import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ImagingTests", "Resources")
rng = np.random.default_rng(1234)
manifest = {"decode": [], "resize": [], "process": []}


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- PNG encoder

def pack_row(samples, depth):
    """samples: 1-D array of ints for one scanline (channels interleaved)."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    out = bytearray((len(samples) * depth + 7) // 8)
    for i, v in enumerate(samples):
        out[i // per] |= int(v) << (8 - depth - (i % per) * depth)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(ftype, row, prev, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev is not None else 0
        c = prev[i - bpp] if (prev is not None and i >= bpp) else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out[i] = (row[i] - pred) & 0xFF
    return bytes([ftype]) + bytes(out)


def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def encode_png(img, color_type, depth, interlace=False, palette=None, trns=None, strategy="dynamic", idat_size=None):
    """img: array (H, W, C) of samples. Filters cycle through 0..4 row by row."""
    h, w, ch = img.shape
    bpp = max(1, ch * depth // 8)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    n = 0
    for (x0, y0, dx, dy) in passes:
        sub = img[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = None
        for r in range(sub.shape[0]):
            row = pack_row(sub[r].reshape(-1), depth)
            raw += filter_row(n % 5, row, prev, bpp)
            n += 1
            prev = row
    if strategy == "stored":
        z = zlib.compress(bytes(raw), 0)
    elif strategy == "fixed":
        c = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
        z = c.compress(bytes(raw)) + c.flush()
    else:
        z = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes([int(v) for v in palette]))
    if trns is not None:
        out += chunk(b"tRNS", bytes([int(v) for v in trns]))
    step = idat_size or len(z)
    for i in range(0, len(z), step):
        out += chunk(b"IDAT", z[i:i + step])
    return out + chunk(b"IEND", b"")


# ---------------------------------------------------------------- baseline JPEG encoder (for sampling layouts
# Pillow cannot write: 4:4:0 and 4:1:1). Pillow/libjpeg-turbo decodes the result, so it stays the oracle.

ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
          21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
          61, 54, 47, 55, 62, 63]


def huffman_lengths(freq):
    """Code lengths (<= 16) for the symbols with nonzero frequency, plus a pseudo-symbol that takes the
    all-ones code (JPEG forbids it) and is then left out of the table."""
    import heapq
    items = [(f, i, [sym]) for i, (sym, f) in enumerate(sorted(freq.items())) if f > 0]
    items.append((0.5, -1, [None]))
    heapq.heapify(items)
    lengths = {}
    counter = len(items)
    while len(items) > 1:
        f1, _, s1 = heapq.heappop(items)
        f2, _, s2 = heapq.heappop(items)
        for sym in s1 + s2:
            lengths[sym] = lengths.get(sym, 0) + 1
        heapq.heappush(items, (f1 + f2, counter, s1 + s2))
        counter += 1
    assert max(lengths.values()) <= 16
    return lengths


def canonical(lengths):
    """-> (counts[1..16], values, {symbol: (code, length)}), the pseudo-symbol last of the longest codes."""
    order = sorted(lengths.items(), key=lambda kv: (kv[1], kv[0] is None, kv[0] if kv[0] is not None else 0))
    codes, code, prev = {}, 0, 0
    for sym, ln in order:
        code <<= (ln - prev)
        prev = ln
        codes[sym] = (code, ln)
        code += 1
    real = [(sym, ln) for sym, ln in order if sym is not None]
    counts = [0] * 17
    for _, ln in real:
        counts[ln] += 1
    return counts[1:], [sym for sym, _ in real], {k: v for k, v in codes.items() if k is not None}


def encode_jpeg(rgb, factors, rgb_ids=False):
    """Baseline JPEG of `rgb` (H, W, 3 uint8) with sampling `factors` [(h, v)] for Y, Cb, Cr. With `rgb_ids`
    the channels are stored untransformed with component ids 'R', 'G', 'B' and no JFIF marker."""
    height, width, _ = rgb.shape
    ids = [0x52, 0x47, 0x42] if rgb_ids else [1, 2, 3]
    ycc = rgb.astype(np.float64) if rgb_ids else np.asarray(Image.fromarray(rgb).convert("YCbCr"), dtype=np.float64)
    hmax, vmax = max(f[0] for f in factors), max(f[1] for f in factors)
    mcux, mcuy = -(-width // (8 * hmax)), -(-height // (8 * vmax))
    quant = [np.array([[1 + (i + j) for j in range(8)] for i in range(8)]),
             np.array([[2 + 2 * (i + j) for j in range(8)] for i in range(8)])]
    dct = np.array([[(np.sqrt(0.5) if u == 0 else 1.0) * np.cos((2 * x + 1) * u * np.pi / 16) / 2 for x in range(8)] for u in range(8)])
    planes = []
    for c, (h, v) in enumerate(factors):
        plane = ycc[:, :, c]
        # Box-average down to the component's sampling.
        sh, sv = hmax // h, vmax // v
        ph, pw = -(-height // sv) * sv, -(-width // sh) * sh
        padded = np.pad(plane, ((0, ph - height), (0, pw - width)), mode="edge")
        small = padded.reshape(ph // sv, sv, pw // sh, sh).mean(axis=(1, 3))
        full = np.pad(small, ((0, mcuy * v * 8 - small.shape[0]), (0, mcux * h * 8 - small.shape[1])), mode="edge")
        planes.append(full - 128)
    blocks = []  # (component, zigzag coefficients) in scan order
    for my in range(mcuy):
        for mx in range(mcux):
            for c, (h, v) in enumerate(factors):
                for by in range(v):
                    for bx in range(h):
                        y0, x0 = (my * v + by) * 8, (mx * h + bx) * 8
                        coef = dct @ planes[c][y0:y0 + 8, x0:x0 + 8] @ dct.T
                        q = np.rint(coef / quant[min(c, 1)]).astype(int).reshape(-1)
                        blocks.append((c, [int(q[z]) for z in ZIGZAG]))

    def category(v):
        return 0 if v == 0 else int(abs(v)).bit_length()

    def symbols():
        pred = [0, 0, 0]
        for c, zz in blocks:
            diff = zz[0] - pred[c]
            pred[c] = zz[0]
            yield c, "dc", category(diff), diff
            run = 0
            last = max([k for k in range(1, 64) if zz[k] != 0], default=0)
            for k in range(1, last + 1):
                if zz[k] == 0:
                    run += 1
                    continue
                while run > 15:
                    yield c, "ac", 0xF0, None
                    run -= 16
                yield c, "ac", (run << 4) | category(zz[k]), zz[k]
                run = 0
            if last < 63:
                yield c, "ac", 0x00, None

    freqs = {(t, k): {} for t in ("dc", "ac") for k in (0, 1)}
    for c, t, sym, _ in symbols():
        f = freqs[(t, min(c, 1))]
        f[sym] = f.get(sym, 0) + 1
    tables = {key: canonical(huffman_lengths(f)) for key, f in freqs.items() if f}

    out = bytearray(b"\xff\xd8")
    if not rgb_ids:
        out += b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    for t in range(2):
        out += b"\xff\xdb" + struct.pack(">HB", 67, t) + bytes(int(quant[t].reshape(-1)[z]) for z in ZIGZAG)
    out += b"\xff\xc0" + struct.pack(">HBHHB", 8 + 3 * 3, 8, height, width, 3)
    for c, (h, v) in enumerate(factors):
        out += bytes([ids[c], h << 4 | v, min(c, 1)])
    for (t, k), (counts, values, _) in tables.items():
        out += b"\xff\xc4" + struct.pack(">HB", 3 + 16 + len(values), (0 if t == "dc" else 1) << 4 | k) + bytes(counts) + bytes(values)
    out += b"\xff\xda" + struct.pack(">HB", 6 + 2 * 3, 3)
    for c in range(3):
        out += bytes([ids[c], min(c, 1) << 4 | min(c, 1)])
    out += bytes([0, 63, 0])
    bits = []
    for c, t, sym, value in symbols():
        code, ln = tables[(t, min(c, 1))][2][sym]
        bits += [(code >> (ln - 1 - i)) & 1 for i in range(ln)]
        size = sym if t == "dc" else sym & 15
        if size:
            v = value if value > 0 else value + (1 << size) - 1
            bits += [(v >> (size - 1 - i)) & 1 for i in range(size)]
    bits += [1] * (-len(bits) % 8)
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i:i + 8])), 2)
        out.append(byte)
        if byte == 0xFF:
            out.append(0)
    return bytes(out + b"\xff\xd9")


def pil_rgb(data):
    return Image.open(io.BytesIO(data)).convert("RGB")


def add_decode(name, data, kind):
    write(f"decode/{name}", data)
    im = pil_rgb(data)
    rgb = np.asarray(im, dtype=np.uint8)
    if rgb.size > 200_000:
        # Large references are stored as PNG (decoded by the PNG decoder, itself checked byte-exactly).
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        write(f"decode/{name}.ref.png", buf.getvalue())
        ref = f"decode/{name}.ref.png"
    else:
        write(f"decode/{name}.rgb", rgb.tobytes())
        ref = f"decode/{name}.rgb"
    manifest["decode"].append({"file": f"decode/{name}", "reference": ref, "kind": kind,
                               "width": im.width, "height": im.height})


def smooth_image(h, w, noise=12):
    """A photo-like RGB test image: gradients, a disc, stripes and mild noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / max(w, 1) * 6.1 + y / max(h, 1) * 1.3)
    g = 255 * (y / max(h - 1, 1))
    b = 60 + 150 * (((x - w / 2) ** 2 + (y - h / 2) ** 2) < (min(h, w) / 3) ** 2)
    b = b + 40 * ((x // 3) % 2)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, noise, (h, w, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_cases():
    def samples(h, w, ch, depth, maxval=None):
        m = (1 << depth) if maxval is None else maxval
        return rng.integers(0, m, (h, w, ch))
    pal = rng.integers(0, 256, 256 * 3)
    cases = [
        ("gray1.png", samples(17, 33, 1, 1), 0, 1, {}),
        ("gray2_interlaced.png", samples(13, 29, 1, 2), 0, 2, {"interlace": True}),
        ("gray4.png", samples(19, 31, 1, 4), 0, 4, {"strategy": "fixed"}),
        ("gray8_interlaced_stored.png", samples(23, 37, 1, 8), 0, 8, {"interlace": True, "strategy": "stored"}),
        ("gray8_trns.png", samples(9, 10, 1, 8), 0, 8, {"trns": [0, 7]}),
        ("gray16.png", samples(11, 21, 1, 16, 1024), 0, 16, {}),
        ("gray16_interlaced.png", samples(12, 9, 1, 16, 600), 0, 16, {"interlace": True}),
        ("graya8.png", samples(14, 19, 2, 8), 4, 8, {}),
        ("graya16_interlaced.png", samples(9, 13, 2, 16), 4, 16, {"interlace": True}),
        ("rgb8_fixed.png", smooth_image(27, 41).astype(int), 2, 8, {"strategy": "fixed"}),
        ("rgb8_interlaced.png", smooth_image(27, 41).astype(int), 2, 8, {"interlace": True, "idat_size": 100}),
        ("rgb8_trns.png", samples(6, 7, 3, 8), 2, 8, {"trns": [0, 1, 0, 2, 0, 3]}),
        ("rgb16.png", samples(15, 17, 3, 16), 2, 16, {}),
        ("rgba8_interlaced.png", samples(21, 23, 4, 8), 6, 8, {"interlace": True}),
        ("rgba16.png", samples(13, 11, 4, 16), 6, 16, {"strategy": "stored"}),
        ("pal1.png", samples(9, 25, 1, 1), 3, 1, {"palette": pal[:6]}),
        ("pal2_interlaced.png", samples(10, 27, 1, 2), 3, 2, {"interlace": True, "palette": pal[:12]}),
        ("pal4.png", samples(11, 29, 1, 4), 3, 4, {"palette": pal[:48]}),
        ("pal8_trns.png", samples(22, 35, 1, 8), 3, 8, {"palette": pal, "trns": list(range(0, 256, 3))}),
        ("pal8_interlaced.png", samples(20, 20, 1, 8), 3, 8, {"interlace": True, "palette": pal}),
        ("rgb8_1x1_interlaced.png", samples(1, 1, 3, 8), 2, 8, {"interlace": True}),
        ("rgb8_3x2_interlaced.png", samples(2, 3, 3, 8), 2, 8, {"interlace": True}),
        ("rgb8_large.png", smooth_image(192, 256, noise=3).astype(int), 2, 8, {}),
        # Indices past a 3-entry PLTE read as black.
        ("pal4_short_palette.png", (np.arange(48).reshape(3, 16, 1) % 16), 3, 4, {"palette": [10, 20, 30, 40, 50, 60, 70, 80, 90]}),
    ]
    for name, img, ct, depth, kw in cases:
        add_decode(name, encode_png(img, ct, depth, **kw), "png")
    # Pillow's own encoder (adaptive filters, zlib's choice of blocks).
    buf = io.BytesIO()
    Image.fromarray(smooth_image(33, 47)).save(buf, format="PNG", optimize=True)
    add_decode("pil_saved.png", buf.getvalue(), "png")


def jpeg_cases():
    def save(img, **kw):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", **kw)
        return buf.getvalue()
    photo = smooth_image(29, 37)
    photo2 = smooth_image(33, 50, noise=20)
    cases = [
        ("baseline_444.jpg", save(photo, quality=90, subsampling=0)),
        ("baseline_422.jpg", save(photo2, quality=85, subsampling=1)),
        ("baseline_420.jpg", save(photo, quality=75, subsampling=2)),
        ("baseline_420_optimized.jpg", save(photo2, quality=95, subsampling=2, optimize=True)),
        ("baseline_420_restart.jpg", save(photo2, quality=80, subsampling=2, restart_marker_blocks=3)),
        ("progressive_420.jpg", save(photo2, quality=80, subsampling=2, progressive=True)),
        ("progressive_444.jpg", save(photo, quality=92, subsampling=0, progressive=True)),
        ("progressive_422_restart.jpg", save(photo, quality=70, subsampling=1, progressive=True, restart_marker_rows=1)),
        ("gray_baseline.jpg", save(photo[:, :, 1].copy(), quality=85)),
        ("gray_progressive.jpg", save(photo2[:, :, 0].copy(), quality=60, progressive=True)),
        ("tiny_420_3x5.jpg", save(smooth_image(5, 3), quality=90, subsampling=2)),
        ("tiny_1x1.jpg", save(smooth_image(1, 1), quality=90)),
        ("large_420.jpg", save(smooth_image(768, 1024, noise=2), quality=85, subsampling=2)),
    ]
    # Layouts Pillow's encoder cannot write, from the encoder above (fixed images, no random draws).
    y, x = np.mgrid[0:27, 0:45]
    fixed = np.stack([(x * 6) % 256, (y * 9) % 256, ((x + y) * 5) % 256], axis=-1).astype(np.uint8)
    cases += [
        ("encoded_440.jpg", encode_jpeg(fixed, [(1, 2), (1, 1), (1, 1)])),
        ("encoded_411.jpg", encode_jpeg(fixed, [(4, 1), (1, 1), (1, 1)])),
        ("encoded_422_via_chroma.jpg", encode_jpeg(fixed[:13, :30], [(2, 1), (1, 1), (1, 1)])),
        ("encoded_rgb_ids.jpg", encode_jpeg(fixed[:20, :21], [(1, 1), (1, 1), (1, 1)], rgb_ids=True)),
    ]
    for name, data in cases:
        add_decode(name, data, "jpeg")
    # BMP and PPM through Pillow's writers.
    for name, fmt in [("rgb.bmp", "BMP"), ("rgb.ppm", "PPM")]:
        buf = io.BytesIO()
        Image.fromarray(smooth_image(7, 9)).save(buf, format=fmt)
        add_decode(name, buf.getvalue(), name.split(".")[1])
    buf = io.BytesIO()
    Image.fromarray(np.dstack([smooth_image(5, 6), rng.integers(0, 256, (5, 6, 1), dtype=np.uint8)])).save(buf, format="BMP")
    add_decode("rgba.bmp", buf.getvalue(), "bmp")


def resize_cases():
    src = smooth_image(47, 61, noise=25)
    write("resize/source.rgb", src.tobytes())
    for (w, h, resample) in [(32, 24, 3), (122, 94, 3), (100, 13, 3), (7, 5, 3), (61, 47, 3), (200, 150, 3),
                             (45, 60, 2), (29, 80, 1), (30, 23, 4), (50, 50, 5), (40, 30, 0), (90, 100, 0),
                             (50, 10, 3), (20, 40, 3), (61, 20, 3), (30, 3, 2)]:
        out = np.asarray(Image.fromarray(src).resize((w, h), resample=resample))
        name = f"resize/{w}x{h}_r{resample}.rgb"
        write(name, out.tobytes())
        manifest["resize"].append({"reference": name, "width": w, "height": h, "resample": resample})
    manifest["resize_source"] = {"file": "resize/source.rgb", "width": 61, "height": 47}


def expand2square(img, background):
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    out = Image.new(img.mode, (side, side), background)
    out.paste(img, (0, (side - h) // 2) if w > h else ((side - w) // 2, 0))
    return out


def process_cases():
    from transformers import CLIPImageProcessorPil as CLIP, SiglipImageProcessorPil as Siglip
    src_png = "decode/rgb8_interlaced.png"          # 41 x 27
    src2_png = "decode/pil_saved.png"               # 47 x 33
    configs = [
        ("clip_small", CLIP(size={"shortest_edge": 32}, crop_size={"height": 28, "width": 28}), src_png, False),
        ("clip_small_pad", CLIP(size={"shortest_edge": 30}, crop_size={"height": 30, "width": 30}), src2_png, True),
        ("clip_crop_larger", CLIP(size={"shortest_edge": 20}, crop_size={"height": 24, "width": 26}), src_png, False),
        ("clip_rect_crop", CLIP(size={"shortest_edge": 24}, crop_size={"height": 17, "width": 30}), src2_png, False),
        ("siglip_small", Siglip(size={"height": 40, "width": 36}), src_png, False),
        ("siglip_small_pad", Siglip(size={"height": 24, "width": 24}), src2_png, True),
        ("llava15_336", CLIP(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}), src2_png, False),
        ("llava15_336_pad", CLIP(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}), src_png, True),
        ("siglip_384", Siglip(size={"height": 384, "width": 384}), src_png, False),
    ]
    for name, proc, src, pad in configs:
        with open(os.path.join(ROOT, src), "rb") as f:
            image = Image.open(io.BytesIO(f.read())).convert("RGB")
        if pad:
            # SGLang / LLaVA: background = tuple(int(x * 255) for x in image_mean), before the processor.
            image = expand2square(image, tuple(int(x * 255) for x in proc.image_mean)).convert("RGB")
        pv = proc(image, return_tensors="np")["pixel_values"][0].astype(np.float32)
        cfg = json.loads(proc.to_json_string())
        write(f"process/{name}.json", json.dumps(cfg, indent=2).encode())
        entry = {"name": name, "config": f"process/{name}.json", "source": src, "pad": pad,
                 "shape": list(pv.shape), "sum": float(pv.astype(np.float64).sum()),
                 "sum_squares": float((pv.astype(np.float64) ** 2).sum())}
        if pv.size <= 8000:
            write(f"process/{name}.f32", pv.astype("<f4").tobytes())
            entry["reference"] = f"process/{name}.f32"
        else:
            idx = np.sort(rng.choice(pv.size, 600, replace=False))
            entry["sample_index"] = idx.tolist()
            entry["sample_value"] = [float(v) for v in pv.reshape(-1)[idx]]
        manifest["process"].append(entry)


if __name__ == "__main__":
    png_cases()
    jpeg_cases()
    resize_cases()
    process_cases()
    write("manifest.json", json.dumps(manifest, indent=1).encode())
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {ROOT} ({total} bytes)", file=sys.stderr)
