// The catalog's pages: home, search, album, artist and genre. Each view renders into the
// main element and reads everything it shows from the API.

import { api, query } from './api.js';
import { state, addToCart, inCart } from './store.js';
import { playTracks, enqueue } from './player.js';
import { h, duration, price, cover, highlighted, notify, loading, icon } from './ui.js';

/** A track as the views and the player use it, from a catalog or search item. */
export function trackOf(item) {
  return {
    id: item.id ?? item.track_id,
    name: item.name,
    album_id: item.album_id,
    album_title: item.album?.title ?? item.album_title,
    artist_id: item.artist_id ?? item.album?.artist_id,
    artist: item.artist?.name ?? item.artist_name,
    milliseconds: item.milliseconds,
    unit_price: item.unit_price,
  };
}

export function link(href, ...children) {
  return h('a', { href, 'data-link': true }, ...children);
}

function buyButton(track) {
  if (state.owned.has(track.id)) return h('span', { class: 'badge badge-full' }, 'Owned');
  const added = inCart('track', track.id);
  return h('button', {
    type: 'button',
    class: 'btn btn-small',
    'aria-label': added ? `“${track.name}” is in your cart` : `Add “${track.name}” to cart, ${price(track.unit_price)}`,
    disabled: added,
    onclick: (event) => {
      addToCart({ type: 'track', id: track.id, name: track.name, price: track.unit_price, detail: track.artist || '' });
      notify(`Added “${track.name}” to your cart.`);
      event.currentTarget.disabled = true;
      event.currentTarget.textContent = 'In cart';
      event.currentTarget.setAttribute('aria-label', `“${track.name}” is in your cart`);
    },
  }, added ? 'In cart' : price(track.unit_price));
}

/** A list of tracks with play, queue, duration and price, as an accessible table. */
export function trackTable(tracks, { caption, showAlbum = true, numbered = false, highlights = null } = {}) {
  if (!tracks.length) return h('p', { class: 'muted' }, 'No tracks.');
  return h('table', { class: 'tracks' },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'col-play' }, h('span', { class: 'visually-hidden' }, 'Play')),
      h('th', { scope: 'col' }, 'Title'),
      showAlbum ? h('th', { scope: 'col', class: 'col-album' }, 'Album') : null,
      h('th', { scope: 'col', class: 'col-time' }, 'Time'),
      h('th', { scope: 'col', class: 'col-buy' }, h('span', { class: 'visually-hidden' }, 'Price'))),
    ),
    h('tbody', {}, tracks.map((track, i) => h('tr', { dataset: { trackId: track.id } },
      h('td', { class: 'col-play' },
        numbered ? h('span', { class: 'track-no', 'aria-hidden': 'true' }, i + 1) : null,
        h('button', {
          type: 'button',
          class: 'icon-btn play-track',
          'aria-label': `Play “${track.name}”${state.owned.has(track.id) ? '' : ' (preview)'}`,
          onclick: () => playTracks(tracks, i),
        }, icon('play'))),
      h('td', { class: 'col-title' }, h('div', { class: 'title-cell' },
        showAlbum && track.album_id ? cover(track.album_id, { sizes: '40px', cls: 'thumb' }) : null,
        h('div', { class: 'title-text' },
          h('span', { class: 'track-name' }, highlights?.[i] ? highlighted(track.name, highlights[i]) : track.name),
          track.artist ? h('span', { class: 'track-sub' },
            track.artist_id ? link(`/artists/${track.artist_id}`, track.artist) : track.artist) : null))),
      showAlbum ? h('td', { class: 'col-album' }, track.album_id ? link(`/albums/${track.album_id}`, track.album_title || 'Album') : '') : null,
      h('td', { class: 'col-time' }, duration(track.milliseconds)),
      h('td', { class: 'col-buy' },
        h('button', {
          type: 'button',
          class: 'icon-btn',
          'aria-label': `Add “${track.name}” to the queue`,
          onclick: () => enqueue(track),
        }, icon('queue')),
        buyButton(track)),
    ))));
}

function albumCard(album, artistName, highlight) {
  return h('li', { class: 'card' },
    h('a', { href: `/albums/${album.id}`, 'data-link': true, class: 'card-link' },
      cover(album.id, { alt: '' }),
      h('span', { class: 'card-title' }, highlight ? highlighted(album.title, highlight) : album.title),
      artistName ? h('span', { class: 'card-sub' }, artistName) : null));
}

function section(title, ...content) {
  const id = `h-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { class: 'section', 'aria-labelledby': id },
    h('h2', { id }, title), ...content);
}

function genreTree(nodes, { hrefOf, countOf, activeSlug } = {}) {
  const list = h('ul', { class: 'tree', role: 'list' });
  for (const node of nodes) {
    const count = countOf(node);
    if (!count) continue;
    const item = h('li', {},
      h('a', {
        href: hrefOf(node),
        'data-link': true,
        class: node.slug === activeSlug ? 'tree-link active' : 'tree-link',
        'aria-current': node.slug === activeSlug ? 'true' : null,
      }, h('span', {}, node.name), h('span', { class: 'count', 'aria-label': `${count} tracks` }, count)));
    if (node.children?.length) item.append(genreTree(node.children, { hrefOf, countOf, activeSlug }));
    list.append(item);
  }
  return list;
}

// ---- Home ----

/** Tracks in the catalog: every track is filed under one genre, so the roots add up to all. */
function catalogSize(roots) {
  return roots.reduce((n, root) => n + root.counts.tracks.with_descendants, 0);
}

export async function home(main) {
  document.title = 'Chinook — music store';
  main.replaceChildren(h('h1', { class: 'visually-hidden' }, 'Chinook music store'), loading());
  const [popular, genres] = await Promise.all([
    api(`/tracks${query({ sort: '-popularity', limit: 40, include: 'album,artist' })}`),
    api('/taxonomies?type=genre'),
  ]);
  const tracks = popular.data.map(trackOf);
  const albums = [];
  for (const item of popular.data) {
    if (item.album && !albums.some((a) => a.album.id === item.album.id)) albums.push(item);
    if (albums.length === 12) break;
  }
  main.replaceChildren(
    h('h1', { class: 'visually-hidden' }, 'Chinook music store'),
    h('div', { class: 'hero' },
      h('p', { class: 'hero-title' }, 'Listen first. Buy what you love.'),
      h('p', { class: 'hero-sub' }, `${catalogSize(genres.data).toLocaleString('en')} tracks, from blues to opera. Every track has a free 30-second preview; what you buy streams in full and downloads.`)),
    h('div', { class: 'home-grid' },
      h('div', {},
        section('Popular albums',
          h('ul', { class: 'cards', role: 'list' }, albums.map((t) => albumCard(t.album, t.artist?.name)))),
        section('Popular tracks', trackTable(tracks.slice(0, 15), { caption: 'Popular tracks' }))),
      h('aside', { class: 'genres', 'aria-label': 'Genres' },
        section('Genres', genreTree(genres.data, {
          hrefOf: (node) => `/genres/${node.slug}`,
          countOf: (node) => node.counts.tracks.with_descendants,
        })))),
  );
}

// ---- Genre ----

export async function genre(main, slug) {
  main.replaceChildren(loading());
  const [term, tracks, tree] = await Promise.all([
    api(`/taxonomies/genre/${encodeURIComponent(slug)}`),
    api(`/taxonomies/genre/${encodeURIComponent(slug)}/tracks${query({ sort: '-popularity', limit: 50, include: 'album,artist' })}`),
    api('/taxonomies?type=genre'),
  ]);
  document.title = `${term.name} — Chinook`;
  const list = tracks.data.map(trackOf);
  main.replaceChildren(
    h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('ol', {},
      h('li', {}, link('/', 'Home')),
      term.ancestors.map((a) => h('li', {}, link(`/genres/${a.slug}`, a.name))),
      h('li', { 'aria-current': 'page' }, term.name))),
    h('h1', {}, term.name),
    h('p', { class: 'muted' }, `${term.counts.tracks.with_descendants} tracks`,
      term.children.length ? `, including ${term.children.map((c) => c.name).join(', ')}` : ''),
    h('div', { class: 'home-grid' },
      section('Most popular', trackTable(list, { caption: `Tracks in ${term.name}` })),
      h('aside', { class: 'genres', 'aria-label': 'Genres' },
        section('Genres', genreTree(tree.data, {
          hrefOf: (node) => `/genres/${node.slug}`,
          countOf: (node) => node.counts.tracks.with_descendants,
          activeSlug: term.slug,
        })))),
  );
}

// ---- Album ----

export async function album(main, id) {
  main.replaceChildren(loading());
  const [albumData, tracks] = await Promise.all([
    api(`/albums/${id}`),
    api(`/tracks${query({ album_id: id, limit: 100, include: 'artist' })}`),
  ]);
  const artist = await api(`/artists/${albumData.artist_id}`);
  document.title = `${albumData.title} — ${artist.name} — Chinook`;
  const list = tracks.data.map(trackOf).map((t) => ({ ...t, album_title: albumData.title }));
  const total = list.reduce((ms, t) => ms + t.milliseconds, 0);
  const notOwned = list.filter((t) => !state.owned.has(t.id));
  main.replaceChildren(
    h('div', { class: 'detail-head' },
      cover(albumData.id, { sizes: '(max-width: 600px) 70vw, 300px', alt: `Cover of ${albumData.title}`, eager: true, cls: 'cover cover-large' }),
      h('div', { class: 'detail-text' },
        h('p', { class: 'eyebrow' }, 'Album'),
        h('h1', {}, albumData.title),
        h('p', {}, link(`/artists/${artist.id}`, artist.name)),
        h('p', { class: 'muted' }, `${list.length} tracks · ${duration(total)}`),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-primary', onclick: () => playTracks(list, 0) }, icon('play'), 'Play'),
          notOwned.length ? h('button', {
            type: 'button',
            class: 'btn',
            disabled: inCart('album', albumData.id),
            onclick: (event) => {
              addToCart({ type: 'album', id: albumData.id, name: albumData.title, detail: artist.name, price: null, tracks: notOwned.map((t) => t.unit_price) });
              notify(`Added the album “${albumData.title}” to your cart.`);
              event.currentTarget.disabled = true;
            },
          }, icon('cart'), inCart('album', albumData.id) ? 'Album in cart' : 'Add album to cart') : h('span', { class: 'badge badge-full' }, 'You own this album')))),
    section('Tracks', trackTable(list, { caption: `Tracks of ${albumData.title}`, showAlbum: false, numbered: true })),
  );
}

// ---- Artist ----

export async function artist(main, id) {
  main.replaceChildren(loading());
  const [artistData, albums, top] = await Promise.all([
    api(`/artists/${id}`),
    api(`/albums${query({ artist_id: id, limit: 100 })}`),
    api(`/tracks${query({ artist_id: id, sort: '-popularity', limit: 10, include: 'album,artist' })}`),
  ]);
  document.title = `${artistData.name} — Chinook`;
  main.replaceChildren(
    h('p', { class: 'eyebrow' }, 'Artist'),
    h('h1', {}, artistData.name),
    section('Albums', h('ul', { class: 'cards', role: 'list' }, albums.data.map((a) => albumCard(a)))),
    section('Popular tracks', trackTable(top.data.map(trackOf), { caption: `Popular tracks by ${artistData.name}` })),
  );
}

// ---- Search ----

const LENGTHS = ['under-3-minutes', '3-to-6-minutes', '6-to-10-minutes', 'over-10-minutes'];

/** The search's state, from the URL: q and the facet filters. */
function searchState(params) {
  return {
    q: params.get('q') || '',
    genre: params.get('genre') || '',
    length: params.get('length') || '',
    media_type: params.get('media_type') || '',
    price: params.get('price') || '',
  };
}

export function searchUrl(s) {
  return `/search${query({ q: s.q, genre: s.genre, length: s.length, media_type: s.media_type, price: s.price })}`;
}

let searchController = null;

export async function search(main, params) {
  const s = searchState(params);
  document.title = s.q ? `“${s.q}” — search — Chinook` : 'Search — Chinook';
  if (!s.q.trim()) {
    main.replaceChildren(h('h1', {}, 'Search'), h('p', { class: 'muted' }, 'Type an artist, album or track in the search box above.'));
    return;
  }
  searchController?.abort();
  searchController = new AbortController();
  const { signal } = searchController;
  const taxonomy = [s.genre && `genre:${s.genre}`, s.length && `length:${s.length}`].filter(Boolean).join(',');
  if (!main.querySelector('.search-layout')) main.replaceChildren(loading('Searching'));
  else main.querySelector('.search-layout').setAttribute('aria-busy', 'true');
  let named;
  let tracks;
  try {
    [named, tracks] = await Promise.all([
      api(`/search${query({ q: s.q, type: 'artist,album', limit: 12, include: 'artist' })}`, { signal }),
      api(`/search${query({
        q: s.q, type: 'track', limit: 50, include: 'album,artist', taxonomy,
        media_type: s.media_type, min_price: s.price, max_price: s.price,
      })}`, { signal }),
    ]);
  } catch (e) {
    if (e.name === 'AbortError') return;
    throw e;
  }
  const artists = named.data.filter((hit) => hit.type === 'artist');
  const albums = named.data.filter((hit) => hit.type === 'album');
  const trackHits = tracks.data;
  const list = trackHits.map((hit) => trackOf(hit.item));
  const filters = facetPanel(s, tracks.facets);
  const nothing = !artists.length && !albums.length && !trackHits.length;
  main.replaceChildren(h('div', { class: 'search-layout' },
    h('div', { class: 'search-results' },
      h('h1', {}, 'Results for ', h('q', {}, s.q)),
      h('p', { class: 'muted', role: 'status' }, nothing
        ? 'Nothing matches. Check the spelling or try fewer words.'
        : `${tracks.total} track${tracks.total === 1 ? '' : 's'}, ${albums.length} album${albums.length === 1 ? '' : 's'}, ${artists.length} artist${artists.length === 1 ? '' : 's'}`),
      artists.length ? section('Artists', h('ul', { class: 'chips', role: 'list' }, artists.map((hit) =>
        h('li', {}, h('a', { href: `/artists/${hit.item.id}`, 'data-link': true, class: 'chip' },
          highlighted(hit.item.name, hit.highlight)))))) : null,
      albums.length ? section('Albums', h('ul', { class: 'cards', role: 'list' }, albums.map((hit) =>
        albumCard(hit.item, hit.item.artist?.name, hit.highlight)))) : null,
      section('Tracks', trackTable(list, { caption: `Tracks matching ${s.q}`, highlights: trackHits.map((hit) => hit.highlight) }))),
    filters));
}

function facetPanel(s, facets) {
  const hrefWith = (change) => searchUrl({ ...s, ...change });
  const group = (title, items) => h('fieldset', { class: 'facet' },
    h('legend', {}, title),
    items.length ? h('ul', { role: 'list' }, items) : h('p', { class: 'muted' }, 'None'));
  const option = (label, count, active, href) => h('li', {}, h('a', {
    href, 'data-link': true,
    class: active ? 'facet-link active' : 'facet-link',
    'aria-current': active ? 'true' : null,
  }, h('span', {}, active ? '✓ ' : '', label), h('span', { class: 'count' }, count)));

  const genreNodes = (nodes) => nodes.map((node) => {
    const active = s.genre === node.slug;
    const item = option(node.name, node.count, active, hrefWith({ genre: active ? '' : node.slug }));
    if (node.children?.length) item.append(h('ul', { role: 'list' }, genreNodes(node.children)));
    return item;
  });
  const lengths = [...(facets.taxonomy?.length || [])].sort((a, b) => LENGTHS.indexOf(a.slug) - LENGTHS.indexOf(b.slug));
  const active = [s.genre, s.length, s.media_type, s.price].some(Boolean);
  return h('aside', { class: 'facets', 'aria-label': 'Filter tracks' },
    h('h2', {}, 'Filter tracks'),
    active ? h('p', {}, h('a', { href: searchUrl({ q: s.q }), 'data-link': true }, 'Clear all filters')) : null,
    group('Genre', genreNodes(facets.taxonomy?.genre || [])),
    group('Length', lengths.map((l) => option(l.name, l.count, s.length === l.slug, hrefWith({ length: s.length === l.slug ? '' : l.slug })))),
    group('Media type', (facets.media_type || []).map((m) => option(m.name, m.count, s.media_type === String(m.value), hrefWith({ media_type: s.media_type === String(m.value) ? '' : m.value })))),
    group('Price', (facets.unit_price || []).map((p) => option(price(p.value), p.count, s.price === p.value, hrefWith({ price: s.price === p.value ? '' : p.value })))),
  );
}

