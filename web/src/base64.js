// Base64 (standard alphabet, padded, as /execute's `files` use) ⇄ bytes, for any size.

const kChunk = 0x8000;  // String.fromCharCode's argument count stays well under engine limits

export function bytesToBase64(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += kChunk) {
        binary += String.fromCharCode.apply(null, bytes.subarray(i, i + kChunk));
    }
    return window.btoa(binary);
}

export function base64ToBytes(text) {
    const binary = window.atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
}
