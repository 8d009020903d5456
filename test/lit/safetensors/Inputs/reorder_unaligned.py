# Rewrites DIR/model.safetensors as other writers may: tensors in reverse order, all data shifted
# by a leading 1-byte U8 tensor (nothing aligned), the header padded with spaces.
import json, sys, struct
path = sys.argv[1] + '/model.safetensors'
raw = open(path, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]; hdr = json.loads(raw[8:8 + n]); data = raw[8 + n:]
meta = hdr.pop('__metadata__', None)
items = sorted(hdr.items(), key=lambda kv: kv[1]['data_offsets'][0], reverse=True)
out = {'__metadata__': meta} if meta else {}
blob = bytearray(b'\x07'); out['zz_pad'] = {'dtype': 'U8', 'shape': [1], 'data_offsets': [0, 1]}
for k, v in items:
    b, e = v['data_offsets']; start = len(blob); blob += data[b:e]
    out[k] = {'dtype': v['dtype'], 'shape': v['shape'], 'data_offsets': [start, len(blob)]}
h = json.dumps(out).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
open(path, 'wb').write(struct.pack('<Q', len(h)) + h + bytes(blob))
