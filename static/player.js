// The player bar: one <audio> element, a queue, play/pause, previous/next, a seek bar and
// volume. Owners hear the whole track through a signed stream URL; everyone else the
// 30-second preview. Seeking sets currentTime, and the browser asks for the bytes from
// there with a Range request, so playback resumes at the new place at once.

import { api } from './api.js';
import { canStream } from './store.js';
import { h, clock, cover, notify, icon } from './ui.js';

const audio = new Audio();
audio.preload = 'auto';
const queue = [];
let current = -1;
let seeking = false;

const els = {};

export function mountPlayer() {
  const bar = document.getElementById('player');
  for (const id of ['play', 'prev', 'next', 'seek', 'elapsed', 'total', 'volume', 'mute', 'queue-toggle', 'queue-panel', 'queue-list', 'now', 'mode']) {
    els[id] = bar.querySelector(`#player-${id}`) || document.getElementById(`player-${id}`);
  }
  bar.append(audio);
  audio.id = 'player-audio';

  els.play.addEventListener('click', toggle);
  els.prev.addEventListener('click', () => step(-1));
  els.next.addEventListener('click', () => step(1));
  els.seek.addEventListener('input', () => {
    seeking = true;
    els.elapsed.textContent = clock(Number(els.seek.value));
  });
  els.seek.addEventListener('change', () => {
    seeking = false;
    seekTo(Number(els.seek.value));
  });
  const savedVolume = Number(localStorage.getItem('chinook.volume') ?? 0.8);
  audio.volume = Number.isFinite(savedVolume) ? savedVolume : 0.8;
  els.volume.value = String(Math.round(audio.volume * 100));
  els.volume.addEventListener('input', () => {
    audio.volume = Number(els.volume.value) / 100;
    audio.muted = false;
    localStorage.setItem('chinook.volume', String(audio.volume));
  });
  els.mute.addEventListener('click', () => { audio.muted = !audio.muted; });
  els['queue-toggle'].addEventListener('click', () => {
    const open = els['queue-panel'].hidden;
    els['queue-panel'].hidden = !open;
    els['queue-toggle'].setAttribute('aria-expanded', String(open));
  });

  audio.addEventListener('timeupdate', () => {
    if (seeking) return;
    els.seek.value = String(audio.currentTime);
    els.elapsed.textContent = clock(audio.currentTime);
    els.seek.setAttribute('aria-valuetext', `${clock(audio.currentTime)} of ${clock(audio.duration)}`);
  });
  audio.addEventListener('durationchange', () => {
    els.seek.max = String(Number.isFinite(audio.duration) ? audio.duration : 0);
    els.total.textContent = clock(audio.duration);
  });
  audio.addEventListener('play', render);
  audio.addEventListener('pause', render);
  audio.addEventListener('volumechange', render);
  audio.addEventListener('ended', () => { if (current < queue.length - 1) step(1); });
  audio.addEventListener('error', () => {
    if (current < 0 || !audio.src) return;
    const track = queue[current];
    notify(`“${track.name}” could not be played: its audio did not load.`, { kind: 'error' });
    render();
  });

  // Space toggles playback anywhere but in a text field or on a control of its own.
  document.addEventListener('keydown', (event) => {
    if (event.key !== ' ' && event.code !== 'Space') return;
    const target = event.target;
    if (target.closest('input, textarea, select, button, a, [role="option"]')) return;
    if (current < 0) return;
    event.preventDefault();
    toggle();
  });
  render();
}

/** Replaces the queue with `tracks` and plays the one at `start`. */
export function playTracks(tracks, start = 0) {
  queue.splice(0, queue.length, ...tracks);
  load(start);
}

/** Adds a track to the end of the queue; plays it when nothing is loaded. */
export function enqueue(track) {
  queue.push(track);
  if (current < 0) load(queue.length - 1);
  else render();
  notify(`Added “${track.name}” to the queue.`);
}

export function isPlaying(trackId) {
  return current >= 0 && queue[current].id === trackId && !audio.paused;
}

async function load(index) {
  if (index < 0 || index >= queue.length) return;
  current = index;
  const track = queue[index];
  audio.pause();
  let src = `/api/v1/tracks/${track.id}/preview`;
  track.full = false;
  if (canStream(track.id)) {
    try {
      const signed = await api(`/tracks/${track.id}/stream-url`, { method: 'POST' });
      src = signed.url;
      track.full = true;
    } catch (e) {
      notify(`${e.message} Playing the preview instead.`, { kind: 'error' });
    }
  }
  if (current !== index) return; // another track was chosen meanwhile
  audio.src = src;
  render();
  try {
    await audio.play();
  } catch (e) {
    // An error event reports a missing file; only other refusals are reported here.
    if (e.name === 'NotAllowedError') notify('Press play to start listening.');
  }
}

function toggle() {
  if (current < 0) {
    if (queue.length) load(0);
    return;
  }
  if (audio.paused) audio.play().catch(() => {});
  else audio.pause();
}

function step(delta) {
  const next = current + delta;
  if (next >= 0 && next < queue.length) load(next);
}

/** Moves playback; the browser fetches from there with a Range request. */
export function seekTo(seconds) {
  if (current < 0) return;
  audio.currentTime = Math.max(0, Math.min(seconds, audio.duration || seconds));
  if (audio.paused) audio.play().catch(() => {});
}

function render() {
  const track = queue[current];
  const playing = track && !audio.paused;
  els.play.replaceChildren(icon(playing ? 'pause' : 'play'));
  els.play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  els.play.setAttribute('aria-pressed', String(Boolean(playing)));
  els.prev.disabled = current <= 0;
  els.next.disabled = current < 0 || current >= queue.length - 1;
  els.seek.disabled = !track;
  els.mute.replaceChildren(icon(audio.muted || audio.volume === 0 ? 'muted' : 'volume'));
  els.mute.setAttribute('aria-label', audio.muted ? 'Unmute' : 'Mute');
  els.mute.setAttribute('aria-pressed', String(audio.muted));
  if (track) {
    els.now.replaceChildren(
      track.album_id ? cover(track.album_id, { sizes: '48px', cls: 'now-cover', eager: true }) : h('span', { class: 'now-cover' }),
      h('span', { class: 'now-text' },
        h('span', { class: 'now-title' }, track.name),
        h('span', { class: 'now-sub' }, track.artist || '')),
    );
    els.mode.textContent = track.full ? 'Full track' : 'Preview';
    els.mode.className = track.full ? 'badge badge-full' : 'badge';
    els.mode.hidden = false;
  } else {
    els.now.replaceChildren(h('span', { class: 'now-idle' }, 'Nothing playing'));
    els.mode.hidden = true;
  }
  els['queue-list'].replaceChildren(...queue.map((t, i) => h('li', {},
    h('button', {
      type: 'button',
      class: i === current ? 'queue-item current' : 'queue-item',
      'aria-current': i === current ? 'true' : null,
      onclick: () => load(i),
    }, h('span', {}, t.name), h('span', { class: 'muted' }, t.artist || '')))));
  if (!queue.length) els['queue-list'].append(h('li', { class: 'muted' }, 'The queue is empty.'));
  document.dispatchEvent(new CustomEvent('chinook:player'));
}
