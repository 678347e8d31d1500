import { render } from 'preact';
import { App } from './app';
import { takeTokenFromFragment } from './session';
import './styles.css';

// Before anything renders: a token in the fragment moves to sessionStorage and leaves the address bar.
takeTokenFromFragment();
render(<App />, document.getElementById('app')!);
